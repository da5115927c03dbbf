"""Extract the Kubernetes JSON schemas tests/deploy/test_k8s.py validates against (data only).

Source: the `kubernetes-validate` wheel on PyPI (its `kubernetes-json-schema/<version>-local-strict/`
folder, generated from Kubernetes' OpenAPI: `additionalProperties: false`, so an unknown field fails).
Each kind's schema is written standalone with only the definitions it reaches (rewritten to `#/$defs/…`):

    pip download kubernetes-validate==1.37.0 --no-deps -d /tmp/kv
    python -m scripts.k8s_schemas /tmp/kv/kubernetes_validate-1.37.0-py3-none-any.whl

Only the kinds the manifests use are kept (KINDS).

The custom resources' schemas (KEDA ScaledObject, RabbitmqCluster, CloudNativePG Cluster and ScheduledBackup)
are the `openAPIV3Schema` of each served version of the CRD files in the operators' repositories, at the
commits in CRDS (`python -m scripts.k8s_schemas --crds <folder of git mirrors>`).
"""

from __future__ import annotations

import json
import re
import sys
import zipfile
from pathlib import Path
from typing import Any

VERSION = "v1.32.0"
OUT = Path(__file__).resolve().parents[1] / "tests" / "deploy" / "schemas" / "kubernetes"
KINDS = (
    "configmap-v1",
    "deployment-apps-v1",
    "horizontalpodautoscaler-autoscaling-v2",
    "ingress-networking-v1",
    "job-batch-v1",
    "namespace-v1",
    "networkpolicy-networking-v1",
    "poddisruptionbudget-policy-v1",
    "service-v1",
    "serviceaccount-v1",
)
_REF = re.compile(r"^(?:/api/_definitions\.json)?#/\$defs/(.+)$")


def _rewrite(node: Any, reached: set[str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and (match := _REF.match(value)):
                reached.add(match[1])
                out[key] = f"#/$defs/{match[1]}"
            else:
                out[key] = _rewrite(value, reached)
        return out
    if isinstance(node, list):
        return [_rewrite(item, reached) for item in node]
    return node


def standalone(kind: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    reached: set[str] = set()
    schema = _rewrite(kind, reached)
    defs: dict[str, Any] = {}
    todo = sorted(reached)
    while todo:
        name = todo.pop()
        if name in defs:
            continue
        found: set[str] = set()
        defs[name] = _rewrite(definitions[name], found)
        todo.extend(sorted(found - set(defs)))
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$defs"] = dict(sorted(defs.items()))
    return schema


def main(wheel: str) -> None:
    folder = f"kubernetes_validate/kubernetes-json-schema/{VERSION}-local-strict"
    with zipfile.ZipFile(wheel) as archive:
        definitions = json.loads(archive.read(f"{folder}/_definitions.json"))["$defs"]
        OUT.mkdir(parents=True, exist_ok=True)
        for kind in KINDS:
            schema = standalone(json.loads(archive.read(f"{folder}/{kind}.json")), definitions)
            (OUT / f"{kind}.json").write_text(json.dumps(schema, separators=(",", ":")) + "\n", encoding="utf-8")
            print(OUT / f"{kind}.json")


# --- custom resources ------------------------------------------------------------------------------------

CRDS_OUT = OUT.parent / "crds"
# (repository, tag nearest the commit, commit, CRD file) of each CRD whose openAPIV3Schema we keep.
CRDS = (
    (
        "kedacore/keda",
        "v2.20.1",
        "8b4f083ca8c8c2baf8477e322bd4d16ac4dfa09a",
        "config/crd/bases/keda.sh_scaledobjects.yaml",
    ),
    (
        "rabbitmq/cluster-operator",
        "v2.22.3",
        "06cda8e8e1a927a652dda20a1b169fe7667f4916",
        "config/crd/bases/rabbitmq.com_rabbitmqclusters.yaml",
    ),
    (
        "cloudnative-pg/cloudnative-pg",
        "v1.30.0",
        "a95a534dbe0854495b863bbc1b7651f74d310916",
        "config/crd/bases/postgresql.cnpg.io_clusters.yaml",
    ),
    (
        "cloudnative-pg/cloudnative-pg",
        "v1.30.0",
        "a95a534dbe0854495b863bbc1b7651f74d310916",
        "config/crd/bases/postgresql.cnpg.io_scheduledbackups.yaml",
    ),
)


def extract_crd(text: str) -> list[tuple[str, dict[str, Any]]]:
    """`(group_kind_version, openAPIV3Schema)` of each served version of a CRD manifest."""
    import yaml

    crd = yaml.safe_load(text)
    group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
    return [
        (f"{group}_{kind}_{version['name']}", version["schema"]["openAPIV3Schema"])
        for version in crd["spec"]["versions"]
        if version.get("served")
    ]


def main_crds(mirrors: str) -> None:
    """`python -m scripts.k8s_schemas --crds /work/.mirror`: from git mirrors of the three repositories."""
    import subprocess

    CRDS_OUT.mkdir(parents=True, exist_ok=True)
    for repo, tag, commit, path in CRDS:
        git_dir = Path(mirrors) / repo.replace("/", "+") / "repo"
        text = subprocess.run(
            ["git", "-C", str(git_dir), "show", f"{commit}:{path}"], capture_output=True, text=True, check=True
        ).stdout
        for name, schema in extract_crd(text):
            schema = {"x-source": f"https://github.com/{repo}/blob/{commit}/{path} ({tag})", **schema}
            (CRDS_OUT / f"{name}.json").write_text(json.dumps(schema, separators=(",", ":")) + "\n", encoding="utf-8")
            print(CRDS_OUT / f"{name}.json")


if __name__ == "__main__":
    if sys.argv[1] == "--crds":
        main_crds(sys.argv[2])
    else:
        main(sys.argv[1])
