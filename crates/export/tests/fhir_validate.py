"""Validate a FHIR R4 Bundle (JSON on stdin) with fhir.resources 6.4.0 (R4 4.0.1 models).

Independent of Hearth: the models are generated from the HL7 FHIR R4 specification.
Checks the whole Bundle, then every entry's resource against its own model, and prints each
error with its resource type and fullUrl. Exit 0: valid; 1: invalid; 2: validator missing.
Needs: pip install "fhir.resources==6.4.0" "pydantic>=1.10,<2"
"""
import json
import sys

try:
    import fhir.resources
    import pydantic
    from fhir.resources import construct_fhir_element
except ImportError as e:
    print(f"fhir.resources is not installed ({e}); run: "
          'pip install "fhir.resources==6.4.0" "pydantic>=1.10,<2"', file=sys.stderr)
    sys.exit(2)

if fhir.resources.__version__ != "6.4.0" or not pydantic.VERSION.startswith("1."):
    print(f"need fhir.resources 6.4.0 (R4) with pydantic 1, found {fhir.resources.__version__} "
          f'with pydantic {pydantic.VERSION}; run: pip install "fhir.resources==6.4.0" "pydantic>=1.10,<2"',
          file=sys.stderr)
    sys.exit(2)

bundle = json.load(sys.stdin)
errors = []
try:
    construct_fhir_element("Bundle", bundle)
except Exception as e:  # pydantic.ValidationError and friends
    errors.append(f"Bundle: {e}")
kinds = {}
for i, entry in enumerate(bundle.get("entry", [])):
    res = entry.get("resource", {})
    kind = res.get("resourceType", "?")
    try:
        construct_fhir_element(kind, res)
        kinds[kind] = kinds.get(kind, 0) + 1
    except Exception as e:
        errors.append(f"entry {i} {kind} {entry.get('fullUrl')}: {e}")
if errors:
    print("\n".join(errors), file=sys.stderr)
    sys.exit(1)
print(json.dumps(kinds, sort_keys=True))
