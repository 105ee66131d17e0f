// Resolvers and attribute indirection: ways to reach any callable from data.

rule resolver_import_machinery
{
    meta:
        id = "resolver.import"
        severity = "critical"
        score = 100
        description = "imports a universal name resolver (importlib, pkgutil.resolve_name, pydoc.locate)"
        reference = "THREATS.md 5: universal resolvers"
    strings:
        $a = /\nIMPORT (importlib(\.[A-Za-z_.]+)?|_imp|imp) /
        $b = /\nIMPORT pkgutil (resolve_name|find_loader|get_importer|iter_modules) /
        $c = /\nIMPORT pydoc (locate|resolve|importfile|safeimport) /
    condition:
        any of them
}

rule resolver_attribute_getters
{
    meta:
        id = "resolver.attribute"
        severity = "critical"
        score = 100
        description = "imports an attribute getter or partial application helper (operator, functools)"
        reference = "THREATS.md 5: operator.attrgetter/methodcaller, functools.partial/reduce"
    strings:
        $a = /\nIMPORT _?operator (attrgetter|methodcaller|itemgetter|getitem|call) /
        $b = /\nIMPORT _?functools (partial|reduce|partialmethod) /
    condition:
        any of them
}

rule resolver_dunder_path
{
    meta:
        id = "resolver.dunder_path"
        severity = "critical"
        score = 100
        description = "a dotted qualname walks through a dunder attribute (__globals__, __dict__, __builtins__, ...)"
        reference = "THREATS.md 2: dotted names from protocol 4"
    strings:
        $a = /\nIMPORT [A-Za-z_.]+ ([A-Za-z_]+\.)*__[a-z]+__(\.[A-Za-z_]+)* /
        $b = /\nIMPORT [A-Za-z_.]+ [A-Za-z_]+(\.[A-Za-z_]+)*\.__[a-z]+__ /
    condition:
        any of them
}

rule resolver_call_of_computed
{
    meta:
        id = "resolver.computed_call"
        severity = "high"
        score = 80
        description = "calls the result of a getattr or of another call"
        reference = "THREATS.md 4: every way pickle calls code"
    strings:
        $a = /\nCALL <result of [^\n]* @[0-9]+ (REDUCE|OBJ|NEWOBJ|NEWOBJ_EX)/
    condition:
        $a
}
