"""Tests of what consumers and resolvers see: the GS1 Digital Link resolver, the public page,
QR codes and label sheets, and the page in a real browser."""
