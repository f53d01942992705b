"""Wheel build hook: ship JInit inside the package, with a juliapkg.json that points at it.

juliapkg reads `<sys.path entry>/<pkg>/juliapkg.json` and resolves "path" against that file's folder, so
the wheel carries `pyjinit/julia/JInit` and `pyjinit/juliapkg.json` (the checkout's `pyjinit/juliapkg.json`,
which stays the one place for the Julia dependencies, with JInit's path rewritten from `../julia/JInit` to
`julia/JInit`). The file lives inside the package folder, never at the checkout's root: juliapkg reads a
`juliapkg.json` at the top of every sys.path entry, and a root file would clash with an installed wheel's
whenever Python starts in the checkout or its parent. Editable installs use the checkout's file.
"""
import json
import os
import tempfile

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class JuliaPkgHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version, build_data):
        if self.target_name != "wheel" or version == "editable":
            return
        root = self.root
        with open(os.path.join(root, "pyjinit", "juliapkg.json")) as f:
            spec = json.load(f)
        spec["packages"]["JInit"]["path"] = "julia/JInit"
        self._tmp = tempfile.TemporaryDirectory()
        path = os.path.join(self._tmp.name, "juliapkg.json")
        with open(path, "w") as f:
            json.dump(spec, f, indent=4)
        build_data["force_include"][path] = "pyjinit/juliapkg.json"
        jinit = os.path.join(root, "julia", "JInit")
        for d in ("src", "ext"):
            if os.path.isdir(os.path.join(jinit, d)):
                build_data["force_include"][os.path.join(jinit, d)] = f"pyjinit/julia/JInit/{d}"
        build_data["force_include"][os.path.join(jinit, "Project.toml")] = "pyjinit/julia/JInit/Project.toml"

    def finalize(self, version, build_data, artifact_path):
        tmp = getattr(self, "_tmp", None)
        if tmp is not None:
            tmp.cleanup()
