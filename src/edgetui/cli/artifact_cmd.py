"""The `edgetui artifact` commands: add, list and show signed model releases.

This module imports nothing heavy at import time, because main.py imports it
to build the parser; onnxruntime loads only when `artifact add` runs.
"""

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

log = logging.getLogger("edgetui.cli")

EXIT_OK = 0
EXIT_VERIFY_FAILED = 1


def add_artifact_parser(commands) -> None:
    """Add the `artifact` subcommand and its actions to the subparsers ``commands``."""
    artifact = commands.add_parser("artifact", help="package, sign and list model releases")
    actions = artifact.add_subparsers(dest="artifact_command", metavar="ACTION", required=True)
    _add_add_parser(actions)

    lister = actions.add_parser("list", help="list the artifacts in the local store")
    lister.add_argument("--json", action="store_true", help="print the artifacts as JSON")

    show = actions.add_parser(
        "show", help="print an artifact's manifest and check its files and signature",
        description="Print the manifest of ARTIFACT and check every file's sha256 and the signature. "
        "Exits 1 when the check fails.",
    )
    show.add_argument("ref", metavar="ARTIFACT", help="id, id prefix of 8 or more hex digits, or NAME:VERSION")
    show.add_argument("--json", action="store_true", help="print the manifest and the check as JSON")


def _add_add_parser(actions) -> None:
    add = actions.add_parser(
        "add", help="package a model file or folder as a signed artifact",
        description="Check the model, generate sample inputs for the device's health check unless "
        "--samples is given, compute reference output statistics, copy every file into the local "
        "artifact store and sign the manifest with the release key.",
    )
    add.add_argument("path", type=Path, metavar="PATH", help="a .onnx or .ort file, or a folder with one")
    add.add_argument("--name", required=True, help="artifact name: letters, digits, '.', '_' or '-'")
    add.add_argument("--version", required=True, help="artifact version, such as 1.2.0")
    add.add_argument("--entrypoint", metavar="FILE", help="the model file inside a folder with several")
    add.add_argument("--budget-p95-ms", type=float, metavar="MS",
                     help="maximum p95 latency of the health check, in milliseconds (default: no limit)")
    add.add_argument("--max-error-rate", type=float, default=0.0, metavar="X",
                     help="fraction of health check runs allowed to fail, 0 to 1 (default: 0)")
    add.add_argument("--warmup", type=int, default=3, help="untimed health check runs (default: 3)")
    add.add_argument("--runs", type=int, default=10, help="timed health check runs (default: 10)")
    add.add_argument("--arch", action="append", default=[], metavar="ARCH",
                     help="CPU architecture the release runs on, as `uname -m` prints it; repeatable "
                     "(default: any)")
    add.add_argument("--provider", metavar="EP",
                     help="onnxruntime execution provider the release needs (default: any)")
    add.add_argument("--min-memory-mb", type=int, metavar="N", help="minimum device memory in MiB")
    add.add_argument("--samples", type=Path, metavar="FILE.npz",
                     help="health check inputs: one array per input name, first axis = samples "
                     "(default: generated from the input shapes)")
    add.add_argument("--signing-key", type=Path, metavar="PATH",
                     help="PEM Ed25519 private key to sign with; a passphrase comes from "
                     "$EDGETUI_SIGNING_KEY_PASSPHRASE (default: the key edgetui creates in its data folder)")
    add.add_argument("--json", action="store_true", help="print the artifact as JSON")


def run_artifact(db_path: Path, args: argparse.Namespace) -> int:
    """Run `edgetui artifact ACTION` and return the exit status."""
    from edgetui.store import FleetStore

    with FleetStore(db_path) as store:
        if args.artifact_command == "add":
            return _run_add(store, args)
        if args.artifact_command == "list":
            return _run_list(store, args.json)
        return _run_show(store, args.ref, args.json)


def _run_add(store, args: argparse.Namespace) -> int:
    from edgetui.artifacts import ArtifactStore
    from edgetui.artifacts.package import AddOptions, add_artifact
    from edgetui.artifacts.signing import SigningKey

    options = AddOptions(
        name=args.name, version=args.version, entrypoint=args.entrypoint, samples=args.samples,
        arch=args.arch, execution_provider=args.provider, min_memory_mb=args.min_memory_mb,
        max_p95_ms=args.budget_p95_ms, max_error_rate=args.max_error_rate, warmup=args.warmup, runs=args.runs,
    )
    key = SigningKey.load(args.signing_key) if args.signing_key else SigningKey.load_or_create()
    result = add_artifact(args.path, options, store=store, blobs=ArtifactStore(), key=key)
    artifact = result.artifact
    if args.json:
        from edgetui.cli.output import print_json

        print_json(add_json(artifact))
    elif result.added:
        print(f"added {artifact.ref} {artifact.id}")
    else:
        print(f"{artifact.ref} is already in the store with the same content: {artifact.id}")
    return EXIT_OK


def add_json(artifact) -> dict[str, Any]:
    """Return the `artifact add --json` object."""
    return {
        "id": artifact.id,
        "name": artifact.name,
        "version": artifact.version,
        "files": [entry.as_json() for entry in artifact.files],
        "size_bytes": artifact.size_bytes,
        "signer": _signer_json(artifact),
    }


def _signer_json(artifact) -> dict[str, str]:
    return {
        "fingerprint": artifact.signer_fingerprint,
        "key_name": artifact.signer_key_name,
        "public_key": artifact.signer_public_key,
    }


def _run_list(store, as_json: bool) -> int:
    artifacts = store.artifacts()
    if as_json:
        from edgetui.cli.output import print_json

        print_json([{**add_json(artifact), "created": artifact.created, "entrypoint": artifact.entrypoint,
                     "target": artifact.target, "health": artifact.health} for artifact in artifacts])
        return EXIT_OK
    if not artifacts:
        print("No artifacts yet. Add one with `edgetui artifact add PATH --name NAME --version VERSION`.")
        return EXIT_OK
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("id", "name:version", "files", "MB", "created", "p95 budget"):
        table.add_column(column, no_wrap=True)
    for artifact in artifacts:
        budget = artifact.health.get("max_p95_ms")
        table.add_row(artifact.id[:12], artifact.ref, str(len(artifact.files)), f"{artifact.size_bytes / 1e6:.2f}",
                      artifact.created, f"{budget:g} ms" if budget else "-")
    Console().print(table)
    return EXIT_OK


def _run_show(store, ref: str, as_json: bool) -> int:
    """Print the manifest and the verification result; return 1 when verification fails."""
    from edgetui.artifacts import ArtifactStore
    from edgetui.artifacts.catalog import ArtifactCatalog
    from edgetui.artifacts.errors import ArtifactTamperedError

    catalog = ArtifactCatalog(store, ArtifactStore())
    artifact = catalog.resolve(ref)
    problem = None
    try:
        catalog.verify(artifact)
    except ArtifactTamperedError as error:
        problem = error.problem
        log.warning("artifact %s failed verification: %s", artifact.id, problem)
    try:
        manifest = catalog.manifest(artifact)
    except ArtifactTamperedError:
        # verify() above already reported why the manifest cannot be read.
        manifest = None
    if as_json:
        from edgetui.cli.output import print_json

        print_json({"id": artifact.id, "manifest": manifest, "signature": artifact.signature,
                    "signer": _signer_json(artifact), "verified": problem is None, "problem": problem})
    else:
        _print_show(artifact, manifest, problem)
    return EXIT_OK if problem is None else EXIT_VERIFY_FAILED


def _print_show(artifact, manifest: dict[str, Any] | None, problem: str | None) -> None:
    import json

    print(f"{artifact.ref}  {artifact.id}")
    print(f"signed by {artifact.signer_fingerprint} (device key name {artifact.signer_key_name})")
    print(f"signature {artifact.signature}")
    if manifest is not None:
        print(json.dumps(manifest, indent=2, sort_keys=True))
    if problem is None:
        print("verified: every file's sha256 and the signature match")
    else:
        print(f"edgetui: verification failed: {problem}", file=sys.stderr)
