# Writes INPUT's text into OUTPUT as `const char* const byoml::NAME`.
file(READ ${INPUT} TEXT)
file(WRITE ${OUTPUT} "namespace byoml {\nextern const char* const ${NAME};\nconst char* const ${NAME} = R\"BYOML_TEXT(${TEXT})BYOML_TEXT\";\n}\n")
