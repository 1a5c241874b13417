"""The message box: validated messages, receipts and e-invoices (EN 16931) between organisations."""
