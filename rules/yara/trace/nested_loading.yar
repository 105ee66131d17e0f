// Nested loading: pickles inside pickles.

rule nested_decoded_payload
{
    meta:
        id = "nested.decoded"
        severity = "high"
        score = 80
        description = "a loader is called on data decoded at load time (base64, hex, zlib)"
        reference = "THREATS.md 6: base64/hex/zlib forms"
    strings:
        $decoded = /\nDECODED (base64|hex|zlib) @/
        $nested = /\nNESTED (pickle|_pickle|torch|numpy|joblib|dill|cloudpickle|pandas)[A-Za-z_.]* @/
    condition:
        $decoded and $nested
}

rule nested_loader_chain
{
    meta:
        id = "nested.loader"
        severity = "high"
        score = 70
        description = "the pickle calls a pickle loader on embedded data"
        reference = "THREATS.md 6: nested loading"
    strings:
        $a = /\nNESTED (pickle|_pickle|dill|cloudpickle|numpy|joblib|pandas)[A-Za-z_.]* @/
    condition:
        $a
}
