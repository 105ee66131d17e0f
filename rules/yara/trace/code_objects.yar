// Code objects: building functions or code from bytes.

rule code_object_builders
{
    meta:
        id = "code_object.builder"
        severity = "critical"
        score = 100
        description = "imports a code-object or function builder (marshal, types.CodeType/FunctionType, cloudpickle, dill)"
        reference = "THREATS.md 5: code objects"
    strings:
        $a = /\nIMPORT marshal (loads|load) /
        $b = /\nIMPORT types (CodeType|FunctionType|LambdaType|MethodType|ModuleType) /
        $c = /\nIMPORT (cloudpickle|dill|srsly)[A-Za-z_.]* [A-Za-z_.]*(make|create|builtin_type|code|function|cell|skeleton)[A-Za-z_]* /
    condition:
        any of them
}
