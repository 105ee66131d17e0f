// Persistence: hooks that run code later or in other processes.

rule persistence_hooks
{
    meta:
        id = "persist.hook"
        severity = "critical"
        score = 100
        description = "imports a hook that runs code later (site, atexit, sys tracing, signal handlers)"
        reference = "THREATS.md 5"
    strings:
        $a = /\nIMPORT (site|atexit|sitecustomize|usercustomize) /
        $b = /\nIMPORT sys (settrace|setprofile|addaudithook|modules|path|meta_path|path_hooks|excepthook|displayhook|breakpointhook) /
        $c = /\nIMPORT (signal|_signal) (signal|setitimer|alarm) /
    condition:
        any of them
}

rule persistence_global_mutation
{
    meta:
        id = "persist.global_mutation"
        severity = "critical"
        score = 100
        description = "changes a module-level object at load time (os.environ, sys.modules, sys.path, ...)"
        reference = "THREATS.md 4: SETITEM(S)/APPEND(S) on objects that are not fresh"
    strings:
        $a = /\nCALL (os\.environ|sys\.(modules|path|meta_path|path_hooks|path_importer_cache))\.(__setitem__|extend|add|__setstate__) /
    condition:
        $a
}
