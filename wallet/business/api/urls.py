"""The wallet API's routes: `urlpatterns`, included under /api/v1/wallet/. Ids are matched as
text and checked by the views, so a malformed id gets the same problem+json 404 as an unknown
one."""

from django.urls import path

from wallet.business.api import attestation_views, identity_views, views

urlpatterns = [
    path("messages/", views.MessageSendApi.as_view(), name="wallet-api-messages"),
    path("messages/inbox/", views.MessageInboxApi.as_view(), name="wallet-api-inbox"),
    path("messages/outbox/", views.MessageOutboxApi.as_view(), name="wallet-api-outbox"),
    path("messages/<str:message_id>/", views.MessageDetailApi.as_view(),
         name="wallet-api-message"),
    path("messages/<str:message_id>/attachments/<str:position>",
         views.MessageAttachmentApi.as_view(), name="wallet-api-message-attachment"),
    path("messages/<str:message_id>/receipt", views.MessageReceiptApi.as_view(),
         name="wallet-api-message-receipt"),
    path("credentials/", identity_views.WalletCredentialListApi.as_view(),
         name="wallet-api-credentials"),
    path("attestations/", attestation_views.AttestationCollectionApi.as_view(),
         name="wallet-api-attestations"),
    path("attestations/<str:attestation_id>/approve",
         attestation_views.AttestationApproveApi.as_view(), name="wallet-api-attestation-approve"),
    path("attestations/<str:attestation_id>/reject",
         attestation_views.AttestationRejectApi.as_view(), name="wallet-api-attestation-reject"),
    path("mandates/", identity_views.MandateCollectionApi.as_view(), name="wallet-api-mandates"),
    path("mandates/<str:mandate_id>/revoke", identity_views.MandateRevokeApi.as_view(),
         name="wallet-api-mandate-revoke"),
    path("mandates/<str:mandate_id>/suspend", identity_views.MandateSuspendApi.as_view(),
         name="wallet-api-mandate-suspend"),
    path("mandates/<str:mandate_id>/reinstate", identity_views.MandateReinstateApi.as_view(),
         name="wallet-api-mandate-reinstate"),
    path("invoices/", views.InvoiceCollectionApi.as_view(), name="wallet-api-invoices"),
    path("invoices/<str:invoice_id>/", views.InvoiceDetailApi.as_view(),
         name="wallet-api-invoice"),
    path("invoices/<str:invoice_id>/send", views.InvoiceSendApi.as_view(),
         name="wallet-api-invoice-send"),
    path("invoices/<str:invoice_id>/xml", views.InvoiceXmlApi.as_view(),
         name="wallet-api-invoice-xml"),
]
