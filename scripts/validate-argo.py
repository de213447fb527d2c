"""Checks Argo Workflows documents against Argo's published API models.

Usage: validate-argo.py FILE.json ...  (each a Workflow or CronWorkflow)

The `argo-workflows` package on PyPI is generated from Argo's OpenAPI specification; its
deserializer checks types and required fields. It accepts unknown fields, so this script
also walks the document against each model's attribute map and refuses any field the
specification does not define (a misspelt `retryStrategy` would otherwise pass silently).
Prints `ok KIND` per file, or the path of the first problem, and exits 1 on any problem.
"""
import json
import sys

from argo_workflows.api_client import ApiClient
from argo_workflows.model.io_argoproj_workflow_v1alpha1_cron_workflow import IoArgoprojWorkflowV1alpha1CronWorkflow
from argo_workflows.model.io_argoproj_workflow_v1alpha1_workflow import IoArgoprojWorkflowV1alpha1Workflow
from argo_workflows.model_utils import OpenApiModel

MODELS = {"Workflow": IoArgoprojWorkflowV1alpha1Workflow, "CronWorkflow": IoArgoprojWorkflowV1alpha1CronWorkflow}


class _Response:
    def __init__(self, data):
        self.data = json.dumps(data)


def unknown_fields(data, types, path):
    """The first field in `data` that the model types in `types` do not define, as a path."""
    for t in types:
        if isinstance(t, list):
            if isinstance(data, list):
                for i, item in enumerate(data):
                    found = unknown_fields(item, tuple(t), f"{path}[{i}]")
                    if found:
                        return found
            return None
        if isinstance(t, dict):
            if isinstance(data, dict):
                value_types = tuple(t.values())[0]
                for key, item in data.items():
                    found = unknown_fields(item, value_types, f"{path}.{key}")
                    if found:
                        return found
            return None
        if isinstance(t, type) and issubclass(t, OpenApiModel) and isinstance(data, dict) and hasattr(t, "attribute_map"):
            by_json = {json_name: attr for attr, json_name in t.attribute_map.items()}
            if not by_json:
                return None
            for key, item in data.items():
                if key not in by_json:
                    return f"{path}.{key}"
                found = unknown_fields(item, t.openapi_types[by_json[key]], f"{path}.{key}")
                if found:
                    return found
            return None
    return None


def main(files):
    client = ApiClient()
    failed = False
    for name in files:
        with open(name) as f:
            document = json.load(f)
        model = MODELS.get(document.get("kind"))
        if model is None:
            print(f"{name}: kind {document.get('kind')!r} is not Workflow or CronWorkflow")
            failed = True
            continue
        try:
            client.deserialize(_Response(document), (model,), True)
        except Exception as e:  # the generated client raises several exception types
            print(f"{name}: {type(e).__name__}: {e}")
            failed = True
            continue
        extra = unknown_fields(document, (model,), "$")
        if extra:
            print(f"{name}: unknown field {extra}")
            failed = True
            continue
        print(f"ok {document['kind']}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
