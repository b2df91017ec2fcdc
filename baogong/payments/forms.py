"""Forms of the payment pages: they only parse; the services check and write."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from baogong.payments.models import Payment, Refund

AMOUNT_ATTRS = {"inputmode": "decimal", "autocomplete": "off"}


class PaymentReportForm(forms.Form):
    payer_name = forms.CharField(
        label=_("Payer name"),
        required=False,
        max_length=50,
        help_text=_("The name shown on the payment, if it is not yours."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    reference = forms.CharField(
        label=_("Last 4 digits of the payment"),
        required=False,
        max_length=40,
        help_text=_("From the transaction number in your payment app (交易单号)."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )


class PaymentRecordForm(forms.Form):
    amount = forms.CharField(label=_("Amount (yuan)"), widget=forms.TextInput(attrs=AMOUNT_ATTRS))
    method = forms.ChoiceField(
        label=_("How it was paid"),
        choices=[
            (Payment.Method.CASH, Payment.Method.CASH.label),
            (Payment.Method.MANUAL, _("transfer or other, checked by you")),
        ],
    )
    payer_name = forms.CharField(label=_("Payer name"), required=False, max_length=50)
    note = forms.CharField(label=_("Note"), required=False, max_length=200)


class ConfirmForm(forms.Form):
    amount = forms.CharField(
        label=_("Amount received (yuan)"),
        required=False,
        widget=forms.TextInput(attrs=AMOUNT_ATTRS),
    )


class WaiverForm(forms.Form):
    amount = forms.CharField(label=_("Amount (yuan)"), widget=forms.TextInput(attrs=AMOUNT_ATTRS))
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        help_text=_("For example: subsidy for a resident living alone, low-income household."),
    )


class RefundForm(forms.Form):
    reason = forms.ChoiceField(label=_("Why"), choices=Refund.Reason.choices)
    kind = forms.ChoiceField(label=_("Give back as"), choices=Refund.Kind.choices)
    amount = forms.CharField(
        label=_("Amount (yuan)"),
        required=False,
        help_text=_("Leave empty to give back everything owed."),
        widget=forms.TextInput(attrs=AMOUNT_ATTRS),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=200)


class StatementUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Statement file (CSV or Excel)"),
        help_text=_(
            "Export the statement from your payment app (WeChat Pay, Alipay, bank): it needs "
            "the time and amount of each payment; payer, remark and transaction id help matching."
        ),
    )


class LineAssignForm(forms.Form):
    pickup_code = forms.CharField(label=_("Pickup code of the order"), max_length=8)


class QrUploadForm(forms.Form):
    image = forms.FileField(
        label=_("Payment code picture"),
        required=False,
        help_text=_("A screenshot of your collection QR code (收款码) from your payment app."),
    )
    remove = forms.BooleanField(label=_("Remove the payment code"), required=False)
