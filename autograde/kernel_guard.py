"""The grading guard that runs inside a submission's kernel (sent as text by ``autograde.execute``).

Before the first cell of a notebook, ``install(config)`` runs in the kernel: it imports the
course and PySpark modules the notebook and its tests import (so their pristine state is known
before any student code runs) and remembers the kernel's hooks. Before each graded test cell the
grader asks ``check(nonce)``, which puts back what a notebook changed and says what it was:

- IPython input transformers (cleanup and post) and AST transformers;
- custom exception handlers (``set_custom_exc``), ``sys.excepthook``, and methods of the shell,
  the kernel, the display hook and the display publisher, replaced on the instance or the class;
- trace and profile functions (``sys.settrace``, ``sys.setprofile``, ``threading.settrace``);
- ``pre_execute`` / ``pre_run_cell`` event callbacks (they would run between this check and the test);
- builtins; ``sys.modules`` entries and the functions and classes of course and PySpark modules,
  and the methods of their classes, replaced by code the notebook wrote (a replacement written in an
  installed library, such as MLflow's autologging patches, is accepted);
- the data the grading reads: the upper-case dicts, lists and sets of the exercise modules
  (``course.exercises.*``: answer keys, column lists, the ``_CACHE`` of references the checks and
  hidden tests compute) and of ``course.datasets`` go back to what they held when the guard was
  installed, silently (the checks fill the caches themselves, so a change there is no proof of a
  trick): a notebook that wrote a fake reference into a cache, or changed a key, gains nothing, and
  the references are computed again from the data;
- the names a test reads: those the notebook imported (``Pipeline``, ``datasets``, ``q1``) must
  still be what the import gave, those of builtins (``len``, ``isinstance``) must not be the
  notebook's own functions, and answers must not be objects of a class the notebook wrote with its
  own comparison or conversion methods (an "equal to anything" object); the notebook's
  ``__builtins__`` must be the real ones.

The reply is signed with a key the grader gave this kernel, so a replaced ``check`` or
``__import__`` cannot answer for it without first finding that key.

What this does not do: code running in the same process can, with enough effort, reach the key or
change state this list does not cover (a thread started earlier, say). The guard raises the cost
of cheating; the sandbox (``autograde.sandbox``) is what keeps grades, keys and other students'
work out of the kernel's reach, and grades are written by the grader, from the executed notebook.
"""


def install(config):  # noqa: C901 (one closure, sent as text: kept in one piece on purpose)
    import builtins
    import copy
    import hashlib
    import hmac
    import importlib
    import sys
    import threading
    import types

    ip = get_ipython()  # noqa: F821 (the kernel provides it)
    key = config["key"].encode()
    roots = tuple(config["roots"])
    trusted_dirs = tuple(d for d in config["trusted_dirs"] if d)
    auto_builtins = set(getattr(ip.builtin_trap, "auto_builtins", {}))
    watched_events = ("pre_execute", "pre_run_cell")

    for name in config["modules"]:
        try:
            importlib.import_module(name)
        except Exception:  # an import that fails here fails in the notebook too, visibly
            pass

    def is_trusted_module(name):
        return name.split(".")[0] in roots

    def library_code(value):
        """True for a function written in an installed library or the course, not in the notebook."""
        value = getattr(value, "__func__", value)
        code = getattr(value, "__code__", None)
        if code is None:
            return False
        return code.co_filename.startswith(trusted_dirs) or code.co_filename.startswith("<frozen ")

    def library_class(cls):
        """A class of a module that lives in an installed library or the course (its methods may
        still be generated from strings, as dataclasses' are)."""
        module = sys.modules.get(getattr(cls, "__module__", None) or "")
        if module is None:
            return False
        return is_trusted_module(module.__name__) or module.__name__ == "builtins" or str(
            getattr(module, "__file__", "") or "").startswith(trusted_dirs)

    def notebook_class(cls):
        """A class with a method the notebook wrote (not an installed library's or the course's)."""
        return isinstance(cls, type) and not library_class(cls) and any(
            hasattr(getattr(v, "__func__", v), "__code__") and not library_code(v) for v in vars(cls).values())

    def callable_or_class(value):
        return isinstance(value, (type, types.FunctionType, types.BuiltinFunctionType, types.MethodType,
                                  classmethod, staticmethod, property))

    def classes_of(module):
        for value in list(vars(module).values()):
            if isinstance(value, type) and getattr(value, "__module__", None) == module.__name__:
                yield value

    shell_objects = [ip, getattr(ip, "kernel", None), ip.displayhook, ip.display_pub]
    shell_objects = [o for o in shell_objects if o is not None]
    snapshot = {}

    def grading_data(modules):
        """{module name: {name: a deep copy}} of the containers the grading reads (see above)."""
        found = {}
        for name, module in modules.items():
            if not (name.startswith("course.exercises.") or name == "course.datasets"):
                continue
            saved = {}
            for k, v in list(vars(module).items()):
                if k.lstrip("_").isupper() and isinstance(v, (dict, list, set)):
                    try:
                        saved[k] = copy.deepcopy(v)
                    except Exception:  # an object that cannot be copied stays as it is
                        pass
            found[name] = saved
        return found

    def take():
        snapshot["builtins"] = {k: v for k, v in vars(builtins).items() if k not in auto_builtins}
        snapshot["cleanup"] = list(ip.input_transformers_cleanup)
        snapshot["post"] = list(ip.input_transformers_post)
        snapshot["ast"] = list(ip.ast_transformers)
        snapshot["custom_exceptions"] = ip.custom_exceptions
        snapshot["CustomTB"] = vars(ip).get("CustomTB")
        snapshot["excepthook"] = sys.excepthook
        snapshot["events"] = {e: list(ip.events.callbacks.get(e, [])) for e in watched_events}
        snapshot["instances"] = [(o, {k: v for k, v in vars(o).items() if callable_or_class(v)})
                                 for o in shell_objects]
        classes = {cls for o in shell_objects for cls in type(o).__mro__ if cls is not object}
        modules = {n: m for n, m in list(sys.modules.items())
                   if isinstance(m, types.ModuleType) and is_trusted_module(n)}
        snapshot["modules"] = modules
        snapshot["module_dicts"] = {n: {k: v for k, v in vars(m).items() if callable_or_class(v)}
                                    for n, m in modules.items()}
        snapshot["grading_data"] = grading_data(modules)
        for m in modules.values():
            classes.update(classes_of(m))
        snapshot["class_dicts"] = {cls: {k: v for k, v in vars(cls).items() if callable_or_class(v)}
                                   for cls in classes}
        snapshot["imports"] = {}
        for name, (module, attr) in config["names"].items():
            source = sys.modules.get(module)
            if source is not None:
                snapshot["imports"][name] = (module, attr)

    def restore_dict(target, before, label, found):
        """Put back the functions and classes of ``target`` (a module, class or object) that code
        written in the notebook replaced or added; a change made by library code (an installed
        package patching another, as MLflow's autologging does) is accepted and remembered."""
        for k, v in list(before.items()):
            now = vars(target).get(k, None)
            if now is v:
                continue
            if now is not None and library_code(now):
                before[k] = now
                continue
            found.append(f"{label}.{k}")
            setattr(target, k, v)
        for k, v in list(vars(target).items()):
            if k in before or not callable_or_class(v):
                continue
            if library_code(v) or not hasattr(getattr(v, "__func__", v), "__code__") and not isinstance(v, type):
                before[k] = v
                continue
            if isinstance(v, type) and not notebook_class(v):
                before[k] = v
                continue
            found.append(f"{label}.{k}")
            try:
                delattr(target, k)
            except (AttributeError, TypeError):
                pass

    def put_back(found):
        b = vars(builtins)
        for k, v in snapshot["builtins"].items():
            if b.get(k, v) is not v or k not in b:
                found.append(f"builtins.{k}")
                b[k] = v
        if ip.user_ns.get("__builtins__") not in (builtins, vars(builtins)):
            found.append("the notebook's __builtins__")
            ip.user_ns["__builtins__"] = builtins
        for attr, label in (("input_transformers_cleanup", "cleanup"), ("input_transformers_post", "post"),
                            ("ast_transformers", "ast")):
            current = getattr(ip, attr)
            if [id(x) for x in current] != [id(x) for x in snapshot[label]]:
                found.append(f"IPython {attr}")
                current[:] = snapshot[label]
        if ip.custom_exceptions != snapshot["custom_exceptions"] or vars(ip).get("CustomTB") is not \
                snapshot["CustomTB"]:
            found.append("a custom exception handler (set_custom_exc)")
            ip.custom_exceptions = snapshot["custom_exceptions"]
            if snapshot["CustomTB"] is not None:
                ip.CustomTB = snapshot["CustomTB"]
        if sys.excepthook is not snapshot["excepthook"]:
            found.append("sys.excepthook")
            sys.excepthook = snapshot["excepthook"]
        if sys.gettrace() is not None:
            found.append("a trace function (sys.settrace)")
            sys.settrace(None)
        if sys.getprofile() is not None:
            found.append("a profile function (sys.setprofile)")
            sys.setprofile(None)
        for hook in ("_trace_hook", "_profile_hook"):
            if getattr(threading, hook, None) is not None:
                found.append(f"threading.{hook.strip('_').replace('_hook', '')} function")
                setattr(threading, hook, None)
        for event in watched_events:
            callbacks = ip.events.callbacks.get(event, [])
            if [id(c) for c in callbacks] != [id(c) for c in snapshot["events"][event]]:
                found.append(f"a {event} callback")
                callbacks[:] = snapshot["events"][event]
        for obj, before in snapshot["instances"]:
            restore_dict(obj, before, type(obj).__name__, found)
        for cls, before in snapshot["class_dicts"].items():
            restore_dict(cls, before, cls.__qualname__, found)
        for name, module in snapshot["modules"].items():
            if sys.modules.get(name) is not module:
                found.append(f"sys.modules[{name!r}]")
                sys.modules[name] = module
        for name, before in snapshot["module_dicts"].items():
            restore_dict(snapshot["modules"][name], before, name, found)
        for name, saved in snapshot["grading_data"].items():
            module = snapshot["modules"][name]
            for k, v in saved.items():
                fresh, current = copy.deepcopy(v), vars(module).get(k)
                if type(current) is type(v):   # in place: names bound to it see the restored contents
                    current.clear()
                    if isinstance(current, list):
                        current.extend(fresh)
                    else:
                        current.update(fresh)
                else:
                    setattr(module, k, fresh)

    def names_read(found, names):
        user_ns = ip.user_ns
        for name in names:
            if name not in user_ns:
                continue
            value = user_ns[name]
            imported = snapshot["imports"].get(name)
            if imported is not None:
                module, attr = imported
                real = sys.modules[module] if attr is None else getattr(sys.modules[module], attr, None)
                if value is not real:
                    if isinstance(value, types.ModuleType) or callable_or_class(value) and not library_code(value):
                        found.append(f"the name {name}")
                    user_ns[name] = real
                continue
            original = snapshot["builtins"].get(name)
            if original is not None and value is not original and callable(value) and not library_code(value):
                # a test's len, set or isinstance replaced by the notebook's own function (a number,
                # a DataFrame or a library's function, such as PySpark's max, that shadows a builtin
                # is left alone: the test behaves as it would anywhere)
                found.append(f"the builtin {name}")
                del user_ns[name]
                continue
            cls = type(value)
            special = {"__eq__", "__ne__", "__hash__", "__bool__", "__len__", "__iter__", "__contains__",
                       "__getattr__", "__getattribute__", "__float__", "__int__", "__index__", "__lt__",
                       "__le__", "__gt__", "__ge__", "__str__", "__instancecheck__"}
            if notebook_class(cls) and any(k in special for klass in cls.__mro__[:-1]
                                           if notebook_class(klass) for k in vars(klass)):
                found.append(f"{name} is an object of a class the notebook wrote to compare or convert itself")

    def sign(nonce, verdict):
        return hmac.new(key, (nonce + "\n" + verdict).encode(), hashlib.sha256).hexdigest() + " " + verdict

    class Guard(types.ModuleType):
        def take(self, nonce, names=()):
            take()
            return sign(nonce, "")

        def check(self, nonce, names=()):
            found = []
            put_back(found)
            names_read(found, names)
            return sign(nonce, "; ".join(dict.fromkeys(found)))

    guard = Guard(config["module_name"])
    sys.modules[config["module_name"]] = guard
    return guard
