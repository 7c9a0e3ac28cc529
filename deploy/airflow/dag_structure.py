#!/usr/bin/env python3
"""Prints the structure of an Airflow DAG file as JSON, read with Python's ast (Airflow need not be installed):
imports, DAG arguments, tasks (operator, task_id, keyword arguments, sparkconv command line) and dependencies.

    python3 deploy/airflow/dag_structure.py [--var NAME=VALUE]... deploy/airflow/dags/sparkconv_retrain.py

Values are evaluated statically: literals, module-level names, string concatenation, f-strings, lists, dicts and
calls of module-level helper functions that build an operator (their parameters bound to the call's arguments),
Variable.get(NAME, default_var=D) as D, or as VALUE when --var NAME=VALUE is given (an Airflow Variable set).
Exits 1 with file:line when the file does not parse or something cannot be evaluated."""
import ast
import json
import sys


class Unknown(Exception):
    pass


class Dag:
    def __init__(self, path, variables=None):
        self.path = path
        self.variables = variables or {}  # Airflow Variables that are set: NAME -> value
        with open(path, encoding="utf-8") as f:
            self.tree = ast.parse(f.read(), filename=path)
        self.names = {}      # module-level NAME = value nodes
        self.functions = {}  # module-level helper functions
        self.imports = {}    # imported name -> module
        self.tasks = {}      # variable -> task
        self.edges = []
        self.dag = {}
        for node in self.tree.body:
            self.visit_top(node)

    def visit_top(self, node):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                self.imports[alias.asname or alias.name] = node.module
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            self.names[node.targets[0].id] = node.value
        elif isinstance(node, ast.FunctionDef):
            self.functions[node.name] = node
        elif isinstance(node, ast.With):
            for item in node.items:
                call = item.context_expr
                if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "DAG":
                    self.dag = {k.arg: self.value(k.value, {}, default=None) for k in call.keywords}
            for stmt in node.body:
                self.visit_dag_body(stmt)

    def visit_dag_body(self, stmt):
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call):
            task = self.task(stmt.value, {})
            self.tasks[stmt.targets[0].id] = task
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.BinOp):
            chain = self.chain(stmt.value)
            self.edges += [[self.tasks[a]["task_id"], self.tasks[b]["task_id"]] for a, b in zip(chain, chain[1:])]

    def chain(self, node):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.RShift):
            return self.chain(node.left) + self.chain(node.right)
        if isinstance(node, ast.Name) and node.id in self.tasks:
            return [node.id]
        raise Unknown(f"{self.path}:{node.lineno}: dependency on something that is not a task")

    def task(self, call, scope):
        """An operator call, directly or through a module-level helper that returns one."""
        name = call.func.id if isinstance(call.func, ast.Name) else None
        if name in self.functions:
            fn = self.functions[name]
            inner = dict(scope)
            params = [a.arg for a in fn.args.args]
            positional = [self.value(a, scope) for a in call.args if not isinstance(a, ast.Starred)]
            inner.update(zip(params, positional))
            if fn.args.vararg:
                inner[fn.args.vararg.arg] = positional[len(params):]
            if fn.args.kwarg:
                inner[fn.args.kwarg.arg] = {k.arg: self.value(k.value, scope) for k in call.keywords}
            returned = next(n.value for n in ast.walk(fn) if isinstance(n, ast.Return))
            return self.task(returned, inner)
        kwargs = {}
        for k in call.keywords:
            if k.arg is None:  # **kwargs forwarded from a helper
                kwargs.update(self.value(k.value, scope))
            else:
                kwargs[k.arg] = self.value(k.value, scope, default=None)
        return {"operator": name, "module": self.imports.get(name), "task_id": kwargs.get("task_id"),
                "line": call.lineno, "kwargs": kwargs}

    def value(self, node, scope, default=Unknown):
        try:
            return self.evaluate(node, scope)
        except Unknown:
            if default is Unknown:
                raise
            return default

    def evaluate(self, node, scope):
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            if node.id in scope:
                return scope[node.id]
            if node.id in self.names:
                return self.evaluate(self.names[node.id], {})
            raise Unknown(f"{self.path}:{node.lineno}: cannot evaluate name {node.id}")
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return self.evaluate(node.left, scope) + self.evaluate(node.right, scope)
        if isinstance(node, ast.JoinedStr):
            return "".join(str(self.evaluate(v, scope)) for v in node.values)
        if isinstance(node, ast.FormattedValue):
            return self.evaluate(node.value, scope)
        if isinstance(node, (ast.List, ast.Tuple)):
            out = []
            for e in node.elts:
                if isinstance(e, ast.Starred):
                    out += self.evaluate(e.value, scope)
                else:
                    out.append(self.evaluate(e, scope))
            return out
        if isinstance(node, ast.Dict):
            return {self.evaluate(k, scope): self.value(v, scope, default=None) for k, v in zip(node.keys, node.values)}
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "Variable"):
            # an Airflow Variable: its value when set, else its default
            name = self.evaluate(node.args[0], scope) if node.args else None
            if name in self.variables:
                return self.variables[name]
            return next(self.evaluate(k.value, scope) for k in node.keywords if k.arg == "default_var")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("Param", "timedelta"):
            return {"call": node.func.id, "args": [self.value(a, scope, default=None) for a in node.args],
                    "kwargs": {k.arg: self.value(k.value, scope, default=None) for k in node.keywords}}
        raise Unknown(f"{self.path}:{getattr(node, 'lineno', '?')}: cannot evaluate {type(node).__name__}")

    def structure(self):
        return {"imports": self.imports, "dag": self.dag, "tasks": list(self.tasks.values()), "edges": self.edges}


def main(argv):
    args, variables = argv[1:], {}
    while len(args) > 2 and args[0] == "--var" and "=" in args[1]:
        name, value = args[1].split("=", 1)
        variables[name] = value
        args = args[2:]
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        print(json.dumps(Dag(args[0], variables).structure(), indent=2, default=str))
    except SyntaxError as e:
        print(f"{e.filename}:{e.lineno}: syntax error: {e.msg}", file=sys.stderr)
        return 1
    except Unknown as e:
        print(e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
