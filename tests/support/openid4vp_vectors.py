"""The OpenID4VP 1.0 final specification's published examples, bundled unchanged in
tests/vectors/openid4vp (sources in its MANIFEST.md)."""

from tests.support.published import PublishedExamples

EXAMPLES = PublishedExamples("openid4vp")
text, published, form = EXAMPLES.text, EXAMPLES.json, EXAMPLES.form
