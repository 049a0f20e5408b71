"""Rules of the merchant API that JSON Schema cannot state, taught to the fuzzer's generator of
valid requests (schemathesis loads this through SCHEMATHESIS_HOOKS). Requests meant to be
invalid are left alone. Each rule is documented in the OpenAPI descriptions:

- `branding.accent_color` must give white button text WCAG AA contrast (4.5:1);
- `line_items` must add up to 1 fen … PAYBRIDGE_MAX_AMOUNT, and an `amount` given with them
  must equal their sum.
"""

import schemathesis

MAX_AMOUNT = 100_000_000


def _contrast_with_white(hex_colour):
    def linear(c):
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    lum = 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
    return 1.05 / (lum + 0.05)


def _valid_request(case):
    meta = getattr(case, "meta", None)
    return meta is not None and meta.generation.mode.is_positive and isinstance(case.body, dict)


@schemathesis.hook
def map_case(ctx, case):
    if not _valid_request(case):
        return case
    body = case.body
    branding = body.get("branding")
    if isinstance(branding, dict):
        colour = branding.get("accent_color")
        if isinstance(colour, str) and _contrast_with_white(colour) < 4.5:
            branding["accent_color"] = "#1a7f37"
    lines = body.get("line_items")
    if isinstance(lines, list) and lines:
        total = sum(line["quantity"] * line["unit_amount"] for line in lines)
        if not 1 <= total <= MAX_AMOUNT:
            for line in lines:
                line["quantity"], line["unit_amount"] = 1, 1
            total = len(lines)
        if body.get("amount") is not None:
            body["amount"] = total
    return case
