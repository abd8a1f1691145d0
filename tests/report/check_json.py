#!/usr/bin/env python3
"""tests/report/check_json.py SCHEMA FILE: validate portguard-report's JSON
output against the layer's JSON Schema (Debian's python3-jsonschema); print
every error and exit 1 when there is one."""
import json
import sys

import jsonschema

schema = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
validator = jsonschema.Draft202012Validator(schema)
errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
for e in errors:
    print("%s: %s: %s" % (sys.argv[2], "/".join(str(p) for p in e.path), e.message))
sys.exit(1 if errors else 0)
