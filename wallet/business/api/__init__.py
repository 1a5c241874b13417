"""The business wallet's partner API: message box and e-invoices (served under /api/v1/wallet/)."""
