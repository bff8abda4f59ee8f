"""The two packages' shape: the runtime package stands alone, and every public function is typed."""

import ast
import os
import unittest

WORKER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES = ("fluxbot_klein", "fluxbot_klein_tools")


def sources(package):
    for root, _, files in os.walk(os.path.join(WORKER_DIR, package)):
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(root, name)
                with open(path, encoding="utf-8") as f:
                    yield os.path.relpath(path, WORKER_DIR), ast.parse(f.read(), path)


def public_functions(tree):
    """(qualified name, node) of module-level functions and methods, nested functions left out."""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node.name, node, False
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    yield f"{node.name}.{item.name}", item, True


def untyped(node, method):
    """Names of node's parameters without an annotation, and "return" when it has none."""
    args = node.args
    params = args.posonlyargs + args.args + args.kwonlyargs
    static = any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in node.decorator_list)
    if method and not static and params and params[0].arg in ("self", "cls"):
        params = params[1:]
    missing = [p.arg for p in params if p.annotation is None]
    missing += ["*" + v.arg for v in (args.vararg, args.kwarg) if v is not None and v.annotation is None]
    if node.returns is None and node.name != "__init__":
        missing.append("return")
    return missing


class PackageTest(unittest.TestCase):
    def test_the_runtime_package_does_not_import_the_tools(self):
        # the jar ships fluxbot_klein alone
        for path, tree in sources("fluxbot_klein"):
            for node in ast.walk(tree):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                    [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
                for name in names:
                    self.assertFalse(name.startswith("fluxbot_klein_tools"), f"{path} imports {name}")

    def test_every_public_function_is_typed(self):
        found = []
        for package in PACKAGES:
            for path, tree in sources(package):
                for name, node, method in public_functions(tree):
                    short = name.rsplit(".", 1)[-1]
                    if short.startswith("_") and not short.endswith("__"):
                        continue
                    missing = untyped(node, method)
                    if missing:
                        found.append(f"{path}:{node.lineno} {name}: {', '.join(missing)}")
        self.assertFalse(found, "public functions without type hints:\n" + "\n".join(found))


if __name__ == "__main__":
    unittest.main()
