// Code execution: globals that evaluate or compile code given as data.
// Trace rules see only the trace text (docs/RULES.md); names are canonical,
// after find_class's Python 2 mapping.

rule code_eval_builtin
{
    meta:
        id = "code.eval"
        severity = "critical"
        score = 100
        description = "imports a builtin that evaluates code (eval, exec, compile, __import__)"
        reference = "THREATS.md 5: code execution"
    strings:
        $a = /\nIMPORT builtins (eval|exec|compile|__import__|execfile|breakpoint) /
    condition:
        $a
}

rule code_runner_module
{
    meta:
        id = "code.runner"
        severity = "critical"
        score = 100
        description = "imports a module that runs code strings (runpy, code, codeop, timeit, profilers, debuggers, doctest, IDLE)"
        reference = "THREATS.md 5: code execution"
    strings:
        $a = /\nIMPORT (runpy|code|codeop|timeit|profile|cProfile|pdb|bdb|trace|doctest|idlelib(\.[A-Za-z_.]+)?) /
    condition:
        $a
}

rule code_forward_ref_eval
{
    meta:
        id = "code.typing_eval"
        severity = "critical"
        score = 100
        description = "imports typing machinery that evaluates forward references as code"
        reference = "THREATS.md 5: typing forward-ref evaluation"
    strings:
        $a = /\nIMPORT typing (ForwardRef|_eval_type|get_type_hints)/
    condition:
        $a
}

rule code_library_eval_helper
{
    meta:
        id = "code.library_helper"
        severity = "critical"
        score = 100
        description = "imports a numpy or torch helper that executes code strings"
        reference = "THREATS.md 5: numpy/torch helpers that eval"
    strings:
        $np = /\nIMPORT numpy\.(testing|f2py|distutils)[A-Za-z_.]* /
        $torch = /\nIMPORT torch\.(jit\.unsupported_tensor_ops|utils\.cpp_extension|hub|_dynamo|_inductor)[A-Za-z_.]* /
    condition:
        any of them
}
