# Writes INPUT's text into OUTPUT as `byoml::kDefaultTemplateYaml`.
file(READ ${INPUT} TEXT)
file(WRITE ${OUTPUT} "namespace byoml {\nextern const char* const kDefaultTemplateYaml;\nconst char* const kDefaultTemplateYaml = R\"BYOML_TEXT(${TEXT})BYOML_TEXT\";\n}\n")
