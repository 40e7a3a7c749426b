"""schemathesis hooks for scripts/api-contract.sh.

Drawn at random, almost every product id is one the inventory does not hold,
so the orders would nearly all stop at 422 `unknown-product` and the paths
past it (a reservation, a confirmation, insufficient stock, a release) would
hardly be exercised. The hooks let the generator also pick the products the
native stack seeds; it still draws unknown ones too.
"""

import re

import schemathesis
from hypothesis import strategies as st

# The products `orderctl seed` writes (the starter's).
SEEDED_PRODUCTS = ["PROD001", "PROD002"]
# The document's own id pattern, read when it loads.
id_pattern = None


@schemathesis.hook
def before_load_schema(context, raw_schema):
    global id_pattern
    id_pattern = re.compile(raw_schema["components"]["schemas"]["Id"]["pattern"])


def with_seeded_product(value):
    """A strategy that keeps `value` or swaps its product_id for a seeded one.

    Only a valid id is swapped: an invalid one was drawn on purpose (a
    negative case), and the request must stay as invalid as it was drawn.
    """
    product_id = value.get("product_id") if isinstance(value, dict) else None
    if not isinstance(product_id, str) or not id_pattern.fullmatch(product_id):
        return st.just(value)
    return st.sampled_from([value["product_id"], *SEEDED_PRODUCTS]).map(
        lambda product_id: {**value, "product_id": product_id}
    )


@schemathesis.hook
def flatmap_body(context, body):
    return with_seeded_product(body)


@schemathesis.hook
def flatmap_path_parameters(context, path_parameters):
    return with_seeded_product(path_parameters)


@schemathesis.hook
def filter_failure(context, failure, case, response):
    """Forgives one refusal of a schema-valid request, and only that one.

    An order for a product the inventory does not hold answers 422
    `unknown-product` (the assessment's contract), which no schema can
    foresee. Every other failure counts.
    """
    unknown_product = response.status_code == 422 and b"problem:unknown-product" in response.content
    return not (failure.code == "ST202" and unknown_product)
