#!/usr/bin/env python3
"""Writes infra/partitions/<partition>.json from the AWS SDK for Rust's partition table.

Each SDK crate parses its whole table (eight partitions, a regex and some sixty
regions) at every cold start, once per crate a function uses. A deployed
function points SMITHY_CLIENT_SDK_CUSTOM_PARTITION at the file of its stack's
partition (infra/template.yaml), the SDK's own variable for a table of one's
own: one partition, its regions without their descriptions, which the rules
never read. shared/store/tests/partitions.rs holds every file to the SDK's
answers.

Run after an SDK upgrade that changes the table (the test above fails):
    python3 infra/partitions/generate.py
"""
import json
import pathlib
import re
import subprocess

here = pathlib.Path(__file__).resolve().parent
host = re.search(r"^host: (\S+)", subprocess.check_output(["rustc", "-vV"], text=True), re.M)
metadata = json.loads(
    subprocess.check_output(
        ["cargo", "metadata", "--format-version", "1", "--locked", "--filter-platform", host.group(1)],
        cwd=here,
    )
)
sdk = next(p for p in metadata["packages"] if p["name"] == "aws-sdk-dynamodb")
source = (pathlib.Path(sdk["manifest_path"]).parent / "src/endpoint_lib.rs").read_text()
# The default table, a Rust byte string literal: only \" and \\ are escaped.
literal = re.search(r'loading default partitions".*?new_from_json\(b"((?:[^"\\]|\\.)*)"\)', source, re.S)
table = json.loads(re.sub(r'\\(["\\])', r"\1", literal.group(1)))

for stale in here.glob("*.json"):
    stale.unlink()
for partition in table["partitions"]:
    own = {
        "partitions": [
            {
                "id": partition["id"],
                "outputs": partition["outputs"],
                "regionRegex": partition["regionRegex"],
                "regions": {region: {} for region in partition["regions"]},
            }
        ],
        "version": table["version"],
    }
    path = here / f"{partition['id']}.json"
    path.write_text(json.dumps(own, indent=1, sort_keys=True) + "\n")
    print(f"{path.relative_to(here.parent.parent)}: {len(partition['regions'])} regions")
