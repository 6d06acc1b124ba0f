"""Model optimization: build variants of an ONNX model, measure them, recommend one per target.

Modules: `model` inspects a model, `data` loads calibration and evaluation
samples, `variants` builds each kind, and `measure` times and compares them.
`targets` reads the facts of the machines to recommend for and benchmarks on
devices, `recommend` chooses, and `pipeline.optimize_model` runs every step.
Nothing is imported here, so importing a submodule such as `targets` does not
load onnxruntime.
"""
