// Compiled against an installed libbyoml through pkg-config by install_test.sh.
#include <byoml/common/time.h>
#include <byoml/templates/detection_template.h>
#include <byoml/version.h>

#include <cstdio>

int main() {
  const byoml::DetectionTemplate& t = byoml::default_template();
  std::printf("byoml %s: template %s writes %s\n", byoml::kVersion, t.name.c_str(), t.output.table.c_str());
  return t.output.table == "AnomalousResourceAccessResult_CL" ? 0 : 1;
}
