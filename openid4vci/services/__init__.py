"""OpenID4VCI issuer logic: offers, tokens, key proofs, issuance, metadata. Views stay thin."""
