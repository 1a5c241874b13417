"""Business identity: attestations by trust anchors and the identity credentials they issue."""
