from __future__ import annotations

from django.urls import path

from baogong.orders.views import chain, excel, proxy, resident, rounds

app_name = "orders"
urlpatterns = [
    # Rounds: liaison, staff and supplier pages (views/rounds.py)
    path("rounds/", rounds.round_list, name="round_list"),
    path("rounds/new/", rounds.round_create, name="round_create"),
    path("rounds/<int:pk>/", rounds.round_detail, name="round_detail"),
    path("rounds/<int:pk>/edit/", rounds.round_edit, name="round_edit"),
    path("rounds/<int:pk>/action/<str:action>/", rounds.round_action, name="round_action"),
    path("rounds/<int:pk>/export.xlsx", rounds.round_export, name="round_export"),
    # Orders on behalf of people who phone in (views/proxy.py)
    path("rounds/<int:pk>/proxy/", proxy.proxy_order, name="proxy_order"),
    # Group-chat order chains (views/chain.py)
    path("rounds/<int:pk>/chain/", chain.chain_paste, name="chain_paste"),
    # Spreadsheet upload of orders (views/excel.py)
    path("rounds/<int:pk>/excel/", excel.excel_upload, name="excel_upload"),
    path("rounds/<int:pk>/excel/template.xlsx", excel.excel_template, name="excel_template"),
    # Resident self-service (views/resident.py)
    path("shop/", resident.shop, name="shop"),
    path("shop/<int:pk>/", resident.round_order, name="round_order"),
    path("my-orders/", resident.my_orders, name="my_orders"),
    path("my-orders/<int:pk>/cancel/", resident.order_cancel, name="order_cancel"),
]
