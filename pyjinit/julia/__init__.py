"""Where Julia runs: in this process through juliacall (bridge, the only module that imports juliacall)
and in a `julia` subprocess (process: tests and benchmarks). Both return plain arrays and tuples.
May import: numpy, the standard library and `pyjinit.support`, nothing else of pyjinit. (A wheel also ships JInit here.)
"""
