"""Check JSON instances against the OpenAPI document they came with.

Input (argv[1]): {"documents": {name: openapi document},
                  "instances": [{"document", "schema", "value", "valid"}]}
Each instance's value is validated against #/components/schemas/<schema> of its
document with the OpenAPI 3.1 dialect and format checking; a verdict that differs
from "valid" is printed. Prints "N checked, N disagree"; exits 1 on any disagreement.
"""
import json
import sys

from openapi_schema_validator import OAS31Validator, oas31_format_checker

with open(sys.argv[1]) as f:
    data = json.load(f)

disagree = 0
for inst in data["instances"]:
    doc = data["documents"][inst["document"]]
    schema = {"$ref": "#/components/schemas/" + inst["schema"], "components": doc["components"]}
    errors = list(OAS31Validator(schema, format_checker=oas31_format_checker).iter_errors(inst["value"]))
    if bool(errors) == inst["valid"]:
        disagree += 1
        why = "; ".join(e.message[:200] for e in errors[:3]) or "accepted"
        print(f"{inst['document']}: {inst['schema']}: expected valid={inst['valid']}: {why}: {json.dumps(inst['value'])[:300]}")
print(f"{len(data['instances'])} checked, {disagree} disagree")
sys.exit(1 if disagree else 0)
