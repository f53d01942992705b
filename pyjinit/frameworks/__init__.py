"""Putting pyjinit's weights into models of other frameworks (PyTorch, Keras, JAX/Flax); users import
them as `pyjinit.torch`, `pyjinit.keras`, `pyjinit.jax`. One module per framework, which alone imports it.
May import: `pyjinit.inits`, and its own framework inside the module that adapts it.
"""
