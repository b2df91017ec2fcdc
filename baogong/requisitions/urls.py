from __future__ import annotations

from django.urls import path

from baogong.requisitions.views import allocations, chain, ledger

app_name = "requisitions"
urlpatterns = [
    path("", chain.dashboard, name="dashboard"),
    # Community requisitions and the street office's review (views/chain.py)
    path("list/", chain.requisition_list, name="requisition_list"),
    path("new/", chain.requisition_create, name="requisition_create"),
    path("<int:pk>/", chain.requisition_detail, name="requisition_detail"),
    path("<int:pk>/submit/", chain.requisition_submit, name="requisition_submit"),
    path("<int:pk>/review/", chain.requisition_review, name="requisition_review"),
    # Street requests to the commerce bureau
    path("requests/new/", chain.request_create, name="request_create"),
    path("requests/<int:pk>/", chain.request_detail, name="request_detail"),
    path("requests/<int:pk>/submit/", chain.request_submit, name="request_submit"),
    path("requests/<int:pk>/decide/", chain.request_decide, name="request_decide"),
    # Allocation orders and receipts (views/allocations.py)
    path("requests/<int:pk>/allocate/", allocations.allocation_create, name="allocation_create"),
    path("allocations/", allocations.allocation_list, name="allocation_list"),
    path("allocations/<int:pk>/", allocations.allocation_detail, name="allocation_detail"),
    path(
        "allocations/<int:pk>/confirm/", allocations.allocation_confirm, name="allocation_confirm"
    ),
    path("allocations/<int:pk>/cancel/", allocations.allocation_cancel, name="allocation_cancel"),
    path("allocations/<int:pk>/order.pdf", allocations.allocation_pdf, name="allocation_pdf"),
    path("allocations/<int:pk>/receive/", allocations.receipt_create, name="receipt_create"),
    path("verify/<str:token>/", allocations.allocation_verify, name="allocation_verify"),
    # Stock, distribution ledger and settlements (views/ledger.py)
    path("stock/", ledger.stock_list, name="stock_list"),
    path("stock/<int:pk>/distribute/", ledger.distribute, name="distribute"),
    path("distributions/<int:pk>/", ledger.distribution_detail, name="distribution_detail"),
    path("allocations/<int:pk>/settle/", ledger.settlement_create, name="settlement_create"),
    path("settlements/", ledger.settlement_list, name="settlement_list"),
    path("settlements/<int:pk>/", ledger.settlement_detail, name="settlement_detail"),
    path("settlements/<int:pk>/statement.pdf", ledger.settlement_pdf, name="settlement_pdf"),
    path("settlements/<int:pk>/statement.xlsx", ledger.settlement_xlsx, name="settlement_xlsx"),
    path("settlements/<int:pk>/pay/", ledger.settlement_pay, name="settlement_pay"),
]
