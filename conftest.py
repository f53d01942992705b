# Doctests run over pyjinit/ (pyproject: --doctest-modules); running __main__ would exit the session.
import importlib.util
import os

collect_ignore = ["pyjinit/__main__.py", "hatch_build.py", "bench/run.py", "bench/gpu.py", "bench/trace_calls.py"]
# The framework adapters import their framework: without it, their modules are not collected for doctests.
for _dep, _mods in (("torch", ("pyjinit/frameworks/torch.py", "pyjinit/torch.py", "pyjinit/frameworks/torch_sampler.py")),
                    ("keras", ("pyjinit/frameworks/keras.py", "pyjinit/keras.py")),
                    ("jax", ("pyjinit/frameworks/jax.py", "pyjinit/jax.py", "pyjinit/frameworks/jax_sampler.py")),
                    ("dask", ("pyjinit/scale/dask.py", "pyjinit/dask.py"))):
    if importlib.util.find_spec(_dep) is None:
        collect_ignore.extend(_mods)
# Keras 3 needs a backend; TensorFlow is not a dependency, JAX is (in the `frameworks` extra)
os.environ.setdefault("KERAS_BACKEND", "jax")
