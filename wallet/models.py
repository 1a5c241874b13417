"""The wallet app's models module (what Django loads): the model classes live in the app's two
packages, tenancy (organisations, members, API keys, their legal side and mandates) and the
business wallet (messages, invoices); the app label, tables and migrations are the app's.
Code imports them from their package (docs/architecture.md, Layers)."""

from wallet.business.messaging.models import (  # noqa: F401
    InboxMessage,
    Invoice,
    Message,
    MessageAttachment,
    OutboxMessage,
)
from wallet.tenancy.legal_models import (  # noqa: F401
    AttestationRequest,
    LegalDetails,
    Mandate,
    TrustedAnchor,
    WalletCredential,
)
from wallet.tenancy.login_models import MandateLogin, MandateLoginEvent  # noqa: F401
from wallet.tenancy.models import ApiToken, Member, Organisation  # noqa: F401
