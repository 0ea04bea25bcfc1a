// Uses the installed nowrec: tokenizes a line with the model folder given as argv[1].
#include <nowrec/nowrec.hpp>

#include <iostream>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: consumer MODEL_DIR\n";
    return 2;
  }
  try {
    const nowrec::Tokenizer tokenizer = nowrec::Tokenizer::load(argv[1]);
    const nowrec::Encoding encoding = tokenizer.encode("Toy Story (1995)");
    std::cout << "nowrec " << nowrec::version_string << " isa "
              << nowrec::cpu_isa_name(nowrec::active_cpu_isa()) << " ids";
    for (int id : encoding.ids) std::cout << ' ' << id;
    std::cout << '\n';
    return encoding.ids.size() > 2 ? 0 : 1;
  } catch (const nowrec::Error& error) {
    std::cerr << "consumer: " << error.what() << '\n';
    return 1;
  }
}
