from __future__ import annotations

import datetime as dt
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from baogong.accounts.models import Role
from baogong.monitoring.models import Alert, Commodity, OutletReport, ReportingSchedule
from tests.monitoring.conftest import TODAY, file, steady_days

YESTERDAY = TODAY - dt.timedelta(days=1)


def test_home_sends_staff_to_their_dashboard_and_suppliers_to_reporting(
    client, bureau, supplier_user, tree
):
    client.force_login(bureau)
    assert client.get(reverse("monitoring:home")).url == reverse(
        "monitoring:dashboard", kwargs={"area_pk": tree.district.pk}
    )
    client.force_login(supplier_user)
    assert client.get(reverse("monitoring:home")).url == reverse("monitoring:reporting")


def test_dashboard_shows_figures_streets_chart_data_and_outlets(
    client, bureau, outlet, outlet_b, rice, tree
):
    steady_days(outlet, rice, days=5, sold=10, stock=100)
    client.force_login(bureau)
    response = client.get(
        reverse("monitoring:dashboard", kwargs={"area_pk": tree.district.pk}),
        {"commodity": rice.pk},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "大米" in page and "10.00" in page  # 100 in stock / 10 a day
    assert "街道a" in page and "街道b" in page  # the district view lists its streets
    assert 'id="chart-data"' in page and "chart.umd.min.js" in page
    assert "The trend as a table" in page
    assert outlet_b.name in page  # not reported: listed first


def test_dashboard_export_has_one_sheet_per_table(client, bureau, outlet, rice, tree):
    steady_days(outlet, rice, days=3)
    client.force_login(bureau)
    response = client.get(
        reverse("monitoring:dashboard_export", kwargs={"area_pk": tree.district.pk}),
        {"commodity": rice.pk},
    )
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Items", "Areas", "Trend", "Outlets"]
    items = list(workbook["Items"].values)
    assert items[1][:5] == ("大米", "kg", 1, 100.0, 10.0)
    assert len(list(workbook["Trend"].values)) == 4  # heading + 3 days


def test_community_staff_and_strangers_see_no_dashboard(client, user_with_role, tree):
    client.force_login(user_with_role(Role.COMMUNITY_STAFF, tree.community_a))
    url = reverse("monitoring:dashboard", kwargs={"area_pk": tree.community_a.pk})
    assert client.get(url).status_code == 404


def test_supplier_files_the_day_on_the_form(client, supplier_user, outlet, rice, eggs):
    client.force_login(supplier_user)
    url = reverse("monitoring:report_entry", kwargs={"pk": outlet.pk})
    assert client.get(url).status_code == 200
    data = {"date": TODAY.isoformat()}
    data.update(
        {
            f"c{rice.pk}_{k}": v
            for k, v in zip(
                ("opening", "received", "sold", "closing", "price"),
                ("100", "20", "30", "90", "6.00"),
                strict=True,
            )
        }
    )
    response = client.post(url, data)
    assert response.status_code == 302
    report = OutletReport.objects.get()
    assert (report.commodity, report.closing, report.channel) == (rice, 90, "form")
    assert report.entered_by == supplier_user


def test_form_refuses_a_half_filled_item_and_a_negative_figure(
    client, supplier_user, outlet, rice, eggs
):
    client.force_login(supplier_user)
    url = reverse("monitoring:report_entry", kwargs={"pk": outlet.pk})
    data = {
        "date": TODAY.isoformat(),
        f"c{rice.pk}_opening": "100",
        f"c{eggs.pk}_opening": "10",
        f"c{eggs.pk}_received": "0",
        f"c{eggs.pk}_sold": "1",
        f"c{eggs.pk}_closing": "-2",
        f"c{eggs.pk}_price": "11",
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert "Fill in every figure of this item." in response.content.decode()
    assert OutletReport.objects.count() == 0


def test_another_suppliers_user_cannot_file_for_the_outlet(client, user_with_role, outlet):
    from baogong.supply.models import Supplier

    other = Supplier.objects.create(name="别家超市", kind=Supplier.Kind.SMALL_SHOP)
    client.force_login(user_with_role(Role.SUPPLIER, other))
    assert (
        client.get(reverse("monitoring:report_entry", kwargs={"pk": outlet.pk})).status_code == 404
    )


def _workbook(rows) -> SimpleUploadedFile:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["网点", "日期", "商品", "期初库存", "进货", "销售", "期末库存", "零售价"])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return SimpleUploadedFile("stock.xlsx", out.getvalue())


def test_upload_keeps_good_rows_and_numbers_the_bad_ones(client, supplier_user, supplier, outlet):
    client.force_login(supplier_user)
    url = reverse("monitoring:report_upload", kwargs={"pk": supplier.pk})
    rows = [
        ["一号店", TODAY, "大米", 100, 0, 10, 90, 6],
        ["一号店", TODAY, "鸡蛋", 50, 0, "五", 45, 11],
        ["一号店", "昨天", "面粉", 50, 0, 5, 45, 5],
        ["一号店", TODAY, "牛奶", 50, 0, 5, 20, 12],
    ]
    response = client.post(url, {"file": _workbook(rows)})
    page = response.content.decode()
    report = response.context["report"]
    assert report.counts == {"created": 1, "unchanged": 0, "flagged": 1, "rejected": 2}
    assert [r.line for r in report.rows if r.status == "rejected"] == [3, 4]
    assert "Not a number: Sales out." in page and "The date is not a date." in page
    again = client.post(url, {"file": _workbook(rows)}).context["report"]
    assert again.counts["unchanged"] == 2 and OutletReport.objects.count() == 2


def test_upload_of_something_else_says_so(client, supplier_user, supplier):
    client.force_login(supplier_user)
    url = reverse("monitoring:report_upload", kwargs={"pk": supplier.pk})
    response = client.post(url, {"file": SimpleUploadedFile("x.xlsx", b"not a workbook")})
    assert "not an Excel workbook" in response.content.decode()


def test_template_lists_every_outlet_and_item(client, supplier_user, supplier, outlet):
    client.force_login(supplier_user)
    response = client.get(reverse("monitoring:report_template", kwargs={"pk": supplier.pk}))
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.max_row == 1 + Commodity.objects.filter(is_active=True).count()


def test_alert_is_closed_from_its_page_with_a_note(client, bureau, outlet, rice):
    file(outlet, rice, YESTERDAY, 100, 0, 10, 90, "6.00")
    alert = file(outlet, rice, TODAY, 90, 0, 10, 80, "7.50").alerts[0]
    client.force_login(bureau)
    url = reverse("monitoring:alert_detail", kwargs={"pk": alert.pk})
    assert "7.50" in client.get(url).content.decode()
    response = client.post(url, {"action": "close", "note": ""})
    assert "Say in a note" in response.content.decode()
    client.post(url, {"action": "close", "note": "已约谈，价格回落"})
    assert Alert.objects.get(pk=alert.pk).state == Alert.State.CLOSED
    listed = client.get(reverse("monitoring:alert_list"), {"state": "closed"})
    assert alert in [row[0] for row in listed.context["rows"]]


def test_market_supervision_sees_repeated_price_alerts(client, supervision, outlet, rice, eggs):
    file(outlet, rice, YESTERDAY, 100, 0, 10, 90, "6.00")
    file(outlet, rice, TODAY, 90, 0, 10, 80, "7.50")
    file(outlet, eggs, TODAY, 90, 0, 10, 80, "16.00")
    client.force_login(supervision)
    response = client.get(reverse("monitoring:repeat_price_alerts"))
    assert list(response.context["outlets"]) == [outlet]


def test_only_bureau_staff_change_thresholds(client, bureau, supervision, rice):
    url = reverse("monitoring:commodity_edit", kwargs={"pk": rice.pk})
    client.force_login(supervision)
    assert client.get(url).status_code == 403
    client.force_login(bureau)
    data = {
        "name": "大米",
        "category": "grain_oil",
        "unit": "kg",
        "baseline_price": "6.20",
        "min_days_of_cover": "5",
        "max_daily_rise_pct": "15",
        "max_baseline_rise_pct": "25",
        "max_ratio_fall_pct": "40",
        "reserve_days": "10",
        "is_active": "on",
    }
    assert client.post(url, data).status_code == 302
    rice.refresh_from_db()
    assert rice.min_days_of_cover == 5 and rice.history.first().history_user == bureau


def test_bureau_adds_a_schedule_and_sees_who_has_not_reported(
    client, bureau, outlet, outlet_b, rice, tree
):
    file(outlet, rice, TODAY, 10, 0, 1, 9, "6.00")
    client.force_login(bureau)
    url = reverse("monitoring:schedule_create", kwargs={"area_pk": tree.district.pk})
    response = client.post(
        url,
        {
            "name": "旬报",
            "kind": "periodic",
            "due_time": "09:00",
            "days_of_month": "10，20，30",
            "remind_minutes_before": "120",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    schedule = ReportingSchedule.objects.get()
    assert schedule.days() == [10, 20, 30]
    page = client.get(
        reverse("monitoring:deadlines", kwargs={"area_pk": tree.district.pk}),
        {"schedule": schedule.pk, "date": TODAY.isoformat()},
    )
    assert [o.pk for o in page.context["missing"]] == [outlet_b.pk]
    assert [o.pk for o in page.context["reported"]] == [outlet.pk]


def test_reserve_page_lists_shortfalls(client, bureau, outlet, rice, tree):
    for n in range(3, 0, -1):
        file(outlet, rice, TODAY - dt.timedelta(days=n), 1000, 0, 20, 980, "6.00")
    file(outlet, rice, TODAY, 980, 0, 20, 960, "6.00")
    client.force_login(bureau)
    url = reverse("monitoring:reserve", kwargs={"area_pk": tree.district.pk})
    assert client.get(url).context["rows"] == []  # 960 ≥ 200
    file(outlet, rice, TODAY, 980, 0, 20, 100, "6.00")
    (row,) = client.get(url).context["rows"]
    assert row.supplier == outlet.supplier


def test_form_keeps_off_balance_figures_and_says_why(client, supplier_user, outlet, rice):
    client.force_login(supplier_user)
    url = reverse("monitoring:report_entry", kwargs={"pk": outlet.pk})
    data = {"date": TODAY.isoformat()}
    data.update(
        {
            f"c{rice.pk}_{k}": v
            for k, v in zip(
                ("opening", "received", "sold", "closing", "price"),
                ("100", "20", "30", "50", "6.00"),
                strict=True,
            )
        }
    )
    response = client.post(url, data, follow=True)
    assert "Closing stock 50 differs from opening + in − out = 90" in (response.content.decode())
    assert OutletReport.objects.get().flag_list == ["balance"]


def test_lists_render_for_their_users(client, bureau, supplier_user, outlet, rice, tree):
    file(outlet, rice, YESTERDAY, 100, 0, 10, 90, "6.00")
    alert = file(outlet, rice, TODAY, 90, 0, 10, 50, "7.50").alerts[0]
    schedule = ReportingSchedule.objects.create(
        area=tree.district, name="每日", kind=ReportingSchedule.Kind.DAILY
    )
    client.force_login(supplier_user)
    page = client.get(reverse("monitoring:reporting")).content.decode()
    assert outlet.name in page and "2 open alerts" in page  # price rise, ratio fall
    outlet_page = client.get(reverse("monitoring:outlet_detail", kwargs={"pk": outlet.pk}))
    assert "closing stock does not match" in outlet_page.content.decode()
    client.force_login(bureau)
    for url in (
        reverse("monitoring:commodity_list"),
        reverse("monitoring:alert_list") + "?state=all",
        reverse("monitoring:schedule_edit", kwargs={"pk": schedule.pk}),
        reverse("monitoring:alert_detail", kwargs={"pk": alert.pk}),
    ):
        assert client.get(url).status_code == 200, url
    assert client.get(reverse("monitoring:reporting")).status_code == 403
