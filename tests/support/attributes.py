"""Valid sample values for category attributes."""


def sample_value(attribute):
    """A value that passes the attribute's validation, in the form a JSON API client sends."""
    if attribute.type == "enum":
        return attribute.choices[0]
    if attribute.type in ("integer", "decimal"):
        value = 7 if attribute.type == "integer" else 12.5
        if attribute.max is not None:
            value = min(value, attribute.max)
        return value
    if attribute.pattern == "^[A-Z]{2}$":
        return "DE"
    return {
        "string": f"sample {attribute.label.lower()}",
        "boolean": True,
        "date": "2024-05-17",
        "month": "2024-05",
        "url": f"https://example.com/docs/{attribute.key}.pdf",
    }[attribute.type]
