from __future__ import annotations

from django.urls import path

from baogong.payments.views import collect, reports, resident, statements

app_name = "payments"
urlpatterns = [
    # Residents (views/resident.py)
    path("orders/<int:pk>/pay/", resident.order_pay, name="order_pay"),
    path("suppliers/<int:pk>/payment-code.png", resident.supplier_qr_image, name="qr_image"),
    # Supplier and liaison (views/collect.py)
    path("", collect.payments_home, name="home"),
    path("rounds/<int:pk>/", collect.round_payments, name="round_payments"),
    path("orders/<int:pk>/", collect.order_detail, name="order_detail"),
    path("orders/<int:pk>/record/", collect.payment_record, name="payment_record"),
    path("orders/<int:pk>/waive/", collect.waiver_grant, name="waiver_grant"),
    path("orders/<int:pk>/refund/", collect.refund_issue, name="refund_issue"),
    path("payments/<int:pk>/<str:action>/", collect.payment_action, name="payment_action"),
    path("refunds/<int:pk>/complete/", collect.refund_complete, name="refund_complete"),
    # Statements (views/statements.py)
    path("suppliers/<int:pk>/statements/", statements.statement_upload, name="statement_upload"),
    path("statements/<int:pk>/", statements.statement_detail, name="statement_detail"),
    path("lines/<int:pk>/resolve/", statements.statement_line_resolve, name="line_resolve"),
    # Money report and the supplier's payment code (views/reports.py)
    path("rounds/<int:pk>/report/", reports.money_report, name="money_report"),
    path("rounds/<int:pk>/report.xlsx", reports.money_report_export, name="money_report_export"),
    path("suppliers/<int:pk>/report/", reports.supplier_report, name="supplier_report"),
    path("suppliers/<int:pk>/payment-code/", reports.supplier_qr, name="supplier_qr"),
]
