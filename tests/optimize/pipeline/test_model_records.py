"""FleetStore models and variants: migration, round trip, and replacement per run."""

import sqlite3

from edgetui.artifacts import ModelRecord, VariantRecord
from edgetui.artifacts.records import DeviceLatency
from edgetui.store import FleetStore

MODEL = "a" * 64


def make_variant(kind, blob, **values):
    return VariantRecord(model_sha256=MODEL, kind=kind, blob_sha256=blob, file_name=f"m.{kind}.onnx",
                         size_bytes=100, compressed_bytes=90, **values)


def test_migration_creates_model_tables(tmp_path):
    FleetStore(tmp_path / "fleet.db").close()

    conn = sqlite3.connect(tmp_path / "fleet.db")
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.close()
    assert {"models", "variants"} <= tables


def test_variants_round_trip(tmp_path):
    with FleetStore(tmp_path / "fleet.db") as store:
        store.record_model(ModelRecord(sha256=MODEL, name="m", path="/models/m.onnx", size_bytes=1000,
                                       opset=17, task="classifier"))
        variant = make_variant(
            "int8-static", "b" * 64, latency_ms_p50=4.1, latency_ms_p95=4.4, threads=2,
            device_latency={"pi": DeviceLatency(p50_ms=9.0, p95_ms=9.5, threads=2, runs=20, onnxruntime="1.16.3")},
            metric="top1", agreement=1.0, max_abs_error=0.02, quantized_nodes=12,
            warnings=["ops left in float: Softmax"], within_budget=True, recommended_for=["pi"],
            details={"platform": None},
        )
        store.record_variants(MODEL, [variant])

        models = store.models()
        stored = store.variants(MODEL)

    assert [model.sha256 for model in models] == [MODEL]
    assert models[0].task == "classifier"
    assert len(stored) == 1
    assert stored[0].model_dump(exclude={"created_at"}) == variant.model_dump(exclude={"created_at"})


def test_new_run_replaces_variants(tmp_path):
    with FleetStore(tmp_path / "fleet.db") as store:
        store.record_model(ModelRecord(sha256=MODEL, name="m", path="/m.onnx", size_bytes=1))
        store.record_variants(MODEL, [make_variant("fp16", "c" * 64), make_variant("pruned-30", "d" * 64)])
        store.record_model(ModelRecord(sha256=MODEL, name="m", path="/moved/m.onnx", size_bytes=1))
        store.record_variants(MODEL, [make_variant("int8-dynamic", "e" * 64)])

        assert [v.kind for v in store.variants(MODEL)] == ["int8-dynamic"]
        assert [m.path for m in store.models()] == ["/moved/m.onnx"]
