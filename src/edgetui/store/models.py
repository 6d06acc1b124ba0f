"""The models and variants tables: what `edgetui optimize` built and measured.

Each optimize run of a model replaces that model's variants, because the
measurements of one run belong together (same evaluation data and threads).
"""

import json
import logging

from edgetui.artifacts.records import DeviceLatency, ModelRecord, VariantRecord
from edgetui.store.db import StoreConnection
from edgetui.store.timestamps import from_iso, to_iso, utc_now

log = logging.getLogger("edgetui.store")


class ModelTable:
    """Queries and writes on the models and variants tables."""

    def __init__(self, connection: StoreConnection) -> None:
        self._connection = connection

    def record_model(self, model: ModelRecord) -> None:
        """Insert the model, or update its name, path and facts; created_at stays."""
        now = to_iso(utc_now())
        row = {
            "sha256": model.sha256,
            "name": model.name,
            "path": model.path,
            "size_bytes": model.size_bytes,
            "opset": model.opset,
            "task": model.task,
            "updated_at": now,
        }
        with self._connection.transaction() as db:
            table = db.table("models")
            if list(table.rows_where("sha256 = ?", [model.sha256], limit=1)):
                table.update(model.sha256, row)
            else:
                table.insert({**row, "created_at": now})

    def record_variants(self, model_sha256: str, variants: list[VariantRecord]) -> None:
        """Replace the model's variants with ``variants`` in one transaction."""
        now = to_iso(utc_now())
        with self._connection.transaction() as db:
            db.execute("DELETE FROM variants WHERE model_sha256 = ?", [model_sha256])
            table = db.table("variants")
            for variant in variants:
                table.insert(_variant_row(model_sha256, variant, now))
        log.info("recorded %d variants of model %s", len(variants), model_sha256)

    def models(self) -> list[ModelRecord]:
        """Return every model, newest first."""
        with self._connection.reading() as db:
            rows = list(db.table("models").rows_where(order_by="updated_at DESC, sha256"))
        return [_model_from_row(row) for row in rows]

    def variants(self, model_sha256: str) -> list[VariantRecord]:
        """Return the variants of one model in the order they were recorded."""
        with self._connection.reading() as db:
            rows = list(db.table("variants").rows_where("model_sha256 = ?", [model_sha256], order_by="id"))
        return [_variant_from_row(row) for row in rows]


def _variant_row(model_sha256: str, variant: VariantRecord, now: str) -> dict:
    """Convert a VariantRecord to a variants row."""
    device_latency = {name: value.model_dump() for name, value in variant.device_latency.items()}
    return {
        "model_sha256": model_sha256,
        "kind": variant.kind,
        "blob_sha256": variant.blob_sha256,
        "file_name": variant.file_name,
        "size_bytes": variant.size_bytes,
        "compressed_bytes": variant.compressed_bytes,
        "latency_ms_p50": variant.latency_ms_p50,
        "latency_ms_p95": variant.latency_ms_p95,
        "threads": variant.threads,
        "device_latency": json.dumps(device_latency, sort_keys=True),
        "metric": variant.metric,
        "agreement": variant.agreement,
        "max_abs_error": variant.max_abs_error,
        "quantized_nodes": variant.quantized_nodes,
        "warnings": json.dumps(variant.warnings),
        "within_budget": int(variant.within_budget),
        "accuracy_budget": variant.accuracy_budget,
        "recommended_for": json.dumps(variant.recommended_for),
        "details": json.dumps(variant.details, sort_keys=True, default=str),
        "created_at": to_iso(variant.created_at) if variant.created_at else now,
    }


def _model_from_row(row: dict) -> ModelRecord:
    """Convert a models row to a ModelRecord."""
    return ModelRecord(
        sha256=row["sha256"],
        name=row["name"],
        path=row["path"],
        size_bytes=row["size_bytes"],
        opset=row["opset"],
        task=row["task"],
        created_at=from_iso(row["created_at"]),
    )


def _variant_from_row(row: dict) -> VariantRecord:
    """Convert a variants row to a VariantRecord."""
    device_latency = {
        name: DeviceLatency.model_validate(value) for name, value in json.loads(row["device_latency"]).items()
    }
    return VariantRecord(
        model_sha256=row["model_sha256"],
        kind=row["kind"],
        blob_sha256=row["blob_sha256"],
        file_name=row["file_name"],
        size_bytes=row["size_bytes"],
        compressed_bytes=row["compressed_bytes"],
        latency_ms_p50=row["latency_ms_p50"],
        latency_ms_p95=row["latency_ms_p95"],
        threads=row["threads"],
        device_latency=device_latency,
        metric=row["metric"],
        agreement=row["agreement"],
        max_abs_error=row["max_abs_error"],
        quantized_nodes=row["quantized_nodes"],
        warnings=json.loads(row["warnings"]),
        within_budget=bool(row["within_budget"]),
        accuracy_budget=row["accuracy_budget"],
        recommended_for=json.loads(row["recommended_for"]),
        details=json.loads(row["details"]),
        created_at=from_iso(row["created_at"]),
    )
