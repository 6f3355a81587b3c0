# Writes a C file holding a text file's bytes (cmake -P, at build time):
#   cmake -DIN=page.html -DOUT=page.c -DNAME=tt_page -P scripts/embed.cmake
# gives `const char NAME[]` (NUL-terminated) and `const size_t NAME_len`.
# Generated files live in the build tree and are never committed.
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" n)
math(EXPR len "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" bytes "${bytes}")
file(WRITE ${OUT} "/* Generated from ${IN} by scripts/embed.cmake: do not edit. */\n#include <stddef.h>\nconst char ${NAME}[] = {\n${bytes}0x00};\nconst size_t ${NAME}_len = ${len};\n")
