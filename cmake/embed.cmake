# Turns a text file into a C source defining `const char NAME[]` with its
# contents, so that the shipped policy files are built into pklscan.
# Usage: cmake -DIN=file -DOUT=file.c -DNAME=symbol -P embed.cmake
file(READ "${IN}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE "${OUT}" "/* Generated from ${IN} by cmake/embed.cmake; do not edit. */\n"
                    "const char ${NAME}[] = {${bytes} 0x00};\n")
