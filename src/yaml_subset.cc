// YamlTree::ParseSubset: a fast parser for the part of YAML that DAG files
// use, building exactly the tree ParseYamlCpp (yaml-cpp) builds.
//
// The subset: one document of printable ASCII and '\n' only (no tab, '\r',
// BOM, "---", "..." or "%" line), whose root is a block collection at column
// 0, made of
//  - block mappings whose keys are names ([A-Za-z0-9_][A-Za-z0-9_.-]*, at
//    most 256 bytes) followed by ": " or by ':' at the end of the line;
//  - block sequences ("- item"); an item may open a mapping on the dash's
//    line ("- key: value"), and a mapping's value may be a sequence at the
//    key's own column;
//  - "key:" or "-" alone on its line, the value being the block collection
//    on the next lines;
//  - one-line values: plain scalars, quoted scalars without escapes, flow
//    sequences and mappings of such scalars ("[a, 'b', {k: v}]");
//  - literal and folded block scalars ("|", "|-", ">", ">-") as mapping
//    values, folded ones without blank or more-indented lines;
//  - comments and blank lines.
// Everything else (anchors, aliases, tags, explicit keys, empty values,
// multi-line plain or quoted scalars, escapes, ...) and every irregularity
// (an unexpected indentation, a missing ':') makes the parser give up:
// ParseSubset returns false and Parse hands the text to yaml-cpp, for its
// verdict and messages. So this parser never reports errors; it only has to
// read what it accepts exactly as yaml-cpp does: the same nodes in the same
// order, the same texts, plain "~", "null", "Null", "NULL" as null nodes,
// quoted and block scalars tagged "!", and the same lines (a collection's
// is that of its first key, dash or bracket; a block scalar's, its header's).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "yaml_tree.h"

namespace dwfs {

namespace {

// Thrown to give up on a text outside the subset; caught in ParseSubset.
struct Unsupported {};

[[noreturn]] void GiveUp() { throw Unsupported{}; }

// Deeper text goes to yaml-cpp (which rejects it past kMaxYamlDepth).
constexpr int kMaxSubsetDepth = 32;
static_assert(kMaxSubsetDepth < kMaxYamlDepth);

bool IsNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
bool IsNameChar(char c) { return IsNameStart(c) || c == '.' || c == '-'; }
// Characters of plain scalars in flow collections (the subset's).
bool IsFlowPlainChar(char c) { return IsNameChar(c) || c == '/' || c == '$' || c == '~' || c == '+'; }

// yaml-cpp's null plain scalars.
bool IsNullString(std::string_view s) { return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL"; }

// True when a plain scalar may start `s` (non-empty): none of YAML's
// indicators, and '-' only before a name character or '.' ("-1", "-x").
bool IsPlainStart(std::string_view s) {
  char c = s[0];
  if (IsNameStart(c) || c == '.' || c == '/' || c == '$' || c == '(' || c == '~' || c == '+') return true;
  return c == '-' && s.size() > 1 && (IsNameStart(s[1]) || s[1] == '.');
}

// The length of the name `s` starts with when a block mapping key follows
// ("name:" then ' ' or the end), else 0.
size_t KeyLength(std::string_view s) {
  if (s.empty() || !IsNameStart(s[0])) return 0;
  size_t n = 1;
  while (n < s.size() && IsNameChar(s[n])) ++n;
  if (n > 256 || n >= s.size() || s[n] != ':') return 0;
  if (n + 1 < s.size() && s[n + 1] != ' ') return 0;
  return n;
}

void SkipSpaces(std::string_view s, size_t* pos) {
  while (*pos < s.size() && s[*pos] == ' ') ++*pos;
}

// Gives up unless `s` from `pos` is spaces, then the end or a comment.
void CheckLineEnd(std::string_view s, size_t pos) {
  size_t p = pos;
  SkipSpaces(s, &p);
  if (p < s.size() && !(s[p] == '#' && p > pos)) GiveUp();
}

}  // namespace

class YamlTree::SubsetParser {
 public:
  SubsetParser(std::string_view text, YamlTree* tree) : text_(text), tree_(tree) {}

  // Builds the tree, or throws Unsupported.
  void Run() {
    SplitLines();
    cur_ = NextContent(0);
    if (cur_ == lines_.size() || lines_[cur_].indent != 0) GiveUp();
    tree_->root_ = ParseCollection(0);
    if (NextContent(cur_) != lines_.size()) GiveUp();
  }

 private:
  struct Line {
    uint32_t begin;   // offset of its first character
    uint32_t end;     // offset of its '\n', or the text's end
    uint32_t indent;  // leading spaces
    bool blank;       // spaces only (or empty)
    bool comment;     // a comment line
  };

  void SplitLines() {
    if (text_.size() >= (uint32_t(1) << 31)) GiveUp();
    for (char ch : text_) {
      auto u = static_cast<unsigned char>(ch);
      if ((u < 0x20 && ch != '\n') || u >= 0x7f) GiveUp();
    }
    lines_.reserve(text_.size() / 24 + 1);
    for (size_t b = 0; b < text_.size();) {
      size_t e = text_.find('\n', b);
      if (e == std::string_view::npos) e = text_.size();
      std::string_view l = text_.substr(b, e - b);
      size_t indent = l.find_first_not_of(' ');
      if (indent == std::string_view::npos) indent = l.size();
      if (l.substr(0, 3) == "---" || l.substr(0, 3) == "..." || l.substr(0, 1) == "%") GiveUp();
      lines_.push_back(Line{uint32_t(b), uint32_t(e), uint32_t(indent), indent == l.size(),
                            indent < l.size() && l[indent] == '#'});
      b = e + 1;
    }
  }

  // Line i from column `col` (col <= its length).
  std::string_view From(size_t i, size_t col) const {
    return text_.substr(lines_[i].begin + col, lines_[i].end - lines_[i].begin - col);
  }
  // The first line from i on that is neither blank nor a comment, or lines_.size().
  size_t NextContent(size_t i) const {
    while (i < lines_.size() && (lines_[i].blank || lines_[i].comment)) ++i;
    return i;
  }
  // True when content line i is a sequence entry: '-' then ' ' or the end.
  bool IsSeqLine(size_t i) const {
    std::string_view s = From(i, lines_[i].indent);
    return s[0] == '-' && (s.size() == 1 || s[1] == ' ');
  }

  // The block collection whose first line is cur_, at column `indent`.
  uint32_t ParseCollection(uint32_t indent) {
    if (IsSeqLine(cur_)) return ParseSeq(indent);
    if (KeyLength(From(cur_, indent)) > 0) return ParseMap(indent);
    GiveUp();
  }

  // A block mapping whose first key is on line cur_ at column `col`, the
  // next ones at the start of later lines indented by `col`.
  uint32_t ParseMap(uint32_t col) {
    Enter();
    uint32_t node = Open(Kind::kMap, cur_);
    size_t from = pending_.size();
    for (;;) {
      size_t line = cur_;
      std::string_view s = From(line, col);
      size_t n = KeyLength(s);
      if (n == 0) GiveUp();
      pending_.push_back(Plain(line, s.substr(0, n)));
      size_t v = n + 1;
      SkipSpaces(s, &v);
      uint32_t value;
      if (v == s.size() || s[v] == '#') {  // "key:": a nested collection, or an empty value
        size_t next = NextContent(line + 1);
        if (next == lines_.size()) GiveUp();
        uint32_t indent = lines_[next].indent;
        if (indent < col || (indent == col && !IsSeqLine(next))) GiveUp();
        cur_ = next;
        value = ParseCollection(indent);
      } else {
        value = ParseValue(line, col + uint32_t(v), col, true);
      }
      pending_.push_back(value);
      size_t next = NextContent(cur_);
      if (next == lines_.size() || lines_[next].indent < col) break;
      if (lines_[next].indent > col) GiveUp();
      cur_ = next;
    }
    return Close(node, from);
  }

  // A block sequence whose first dash is on line cur_ at column `indent`.
  uint32_t ParseSeq(uint32_t indent) {
    Enter();
    uint32_t node = Open(Kind::kSequence, cur_);
    size_t from = pending_.size();
    for (;;) {
      size_t line = cur_;
      std::string_view s = From(line, indent);
      size_t v = 1;
      SkipSpaces(s, &v);
      uint32_t item;
      if (v == s.size() || s[v] == '#') {  // "-": a nested collection, or an empty item
        size_t next = NextContent(line + 1);
        if (next == lines_.size() || lines_[next].indent <= indent) GiveUp();
        cur_ = next;
        item = ParseCollection(lines_[next].indent);
      } else if (KeyLength(s.substr(v)) > 0) {
        item = ParseMap(indent + uint32_t(v));
      } else {
        item = ParseValue(line, indent + uint32_t(v), indent, false);
      }
      pending_.push_back(item);
      size_t next = NextContent(cur_);
      if (next == lines_.size() || lines_[next].indent < indent) break;
      if (lines_[next].indent > indent) GiveUp();
      if (!IsSeqLine(next)) break;  // the next key of the mapping this sequence is a value of
      cur_ = next;
    }
    return Close(node, from);
  }

  // The value starting at column `col` of `line`, in a collection at column
  // `owner`; block scalars only when `block_ok`. Leaves cur_ after it.
  uint32_t ParseValue(size_t line, uint32_t col, uint32_t owner, bool block_ok) {
    std::string_view s = From(line, col);
    size_t pos = 0;
    uint32_t node;
    if (s[0] == '"' || s[0] == '\'') {
      node = Quoted(line, s, &pos);
      CheckLineEnd(s, pos);
    } else if (s[0] == '[' || s[0] == '{') {
      node = ParseFlow(line, s, &pos);
      CheckLineEnd(s, pos);
    } else if ((s[0] == '|' || s[0] == '>') && block_ok) {
      return ParseBlockScalar(line, s, owner);
    } else {
      if (!IsPlainStart(s)) GiveUp();
      std::string_view v = s.substr(0, s.find(" #"));
      while (v.back() == ' ') v.remove_suffix(1);
      if (v.back() == ':' || v.find(": ") != std::string_view::npos) GiveUp();
      // A more indented line next, even a comment, would continue the scalar.
      for (size_t i = line + 1; i < lines_.size(); ++i) {
        if (lines_[i].blank) continue;
        if (lines_[i].indent > owner) GiveUp();
        break;
      }
      node = Plain(line, v);
    }
    cur_ = line + 1;
    return node;
  }

  // The quoted scalar `s` starts with; *pos is set after its closing quote.
  uint32_t Quoted(size_t line, std::string_view s, size_t* pos) {
    size_t close = s.find(s[0], 1);
    if (close == std::string_view::npos) GiveUp();  // goes on after the line
    std::string_view body = s.substr(1, close - 1);
    if (s[0] == '"' && body.find('\\') != std::string_view::npos) GiveUp();  // escapes
    if (s[0] == '\'' && close + 1 < s.size() && s[close + 1] == '\'') GiveUp();  // '' for '
    *pos = close + 1;
    return Scalar(line, body, true);
  }

  // The flow collection at s[*pos] ('[' or '{'), which must end on its
  // line; *pos is set after it.
  uint32_t ParseFlow(size_t line, std::string_view s, size_t* pos) {
    Enter();
    const bool map = s[*pos] == '{';
    const char close = map ? '}' : ']';
    uint32_t node = Open(map ? Kind::kMap : Kind::kSequence, line);
    size_t from = pending_.size();
    ++*pos;
    SkipSpaces(s, pos);
    if (*pos < s.size() && s[*pos] == close) {
      ++*pos;
      return Close(node, from);
    }
    for (;;) {
      if (map) {  // "name: "
        size_t n = KeyLength(s.substr(*pos));
        if (n == 0 || *pos + n + 1 >= s.size()) GiveUp();
        pending_.push_back(Plain(line, s.substr(*pos, n)));
        *pos += n + 1;
        SkipSpaces(s, pos);
      }
      pending_.push_back(ParseFlowItem(line, s, pos));
      SkipSpaces(s, pos);
      if (*pos >= s.size()) GiveUp();
      if (s[*pos] == close) break;
      if (s[*pos] != ',') GiveUp();
      ++*pos;
      SkipSpaces(s, pos);
      if (*pos >= s.size() || s[*pos] == close) GiveUp();  // "[a,]"
    }
    ++*pos;
    return Close(node, from);
  }

  uint32_t ParseFlowItem(size_t line, std::string_view s, size_t* pos) {
    if (*pos >= s.size()) GiveUp();
    char c = s[*pos];
    if (c == '[' || c == '{') return ParseFlow(line, s, pos);
    if (c == '"' || c == '\'') {
      size_t end = 0;
      uint32_t node = Quoted(line, s.substr(*pos), &end);
      *pos += end;
      return node;
    }
    if (!IsPlainStart(s.substr(*pos)) || !IsFlowPlainChar(c)) GiveUp();
    size_t e = *pos;
    while (e < s.size() && IsFlowPlainChar(s[e])) ++e;
    uint32_t node = Plain(line, s.substr(*pos, e - *pos));
    *pos = e;
    return node;
  }

  // The block scalar whose header `s` is on `line`, the value of a mapping
  // at column `owner`. Leaves cur_ after its last line.
  uint32_t ParseBlockScalar(size_t line, std::string_view s, uint32_t owner) {
    const bool literal = s[0] == '|';
    if (!(s.size() == 1 || (s.size() == 2 && s[1] == '-'))) GiveUp();  // only "|", "|-", ">", ">-"
    const bool strip = s.size() == 2;
    const size_t first = line + 1;
    if (first >= lines_.size() || lines_[first].blank || lines_[first].indent <= owner) GiveUp();
    const uint32_t indent = lines_[first].indent;
    size_t last = first;
    for (size_t i = first + 1; i < lines_.size(); ++i) {
      const Line& l = lines_[i];
      if (l.begin == l.end) continue;  // an empty line: kept if more content follows
      if (l.blank) GiveUp();           // spaces only
      if (l.indent < indent) break;
      if (!literal && (l.indent > indent || i > last + 1)) GiveUp();  // folding rules the subset skips
      last = i;
    }
    if (lines_[last].end == text_.size()) GiveUp();  // no final line break
    std::string& out = tree_->chars_;
    auto begin = uint32_t(out.size());
    for (size_t k = first; k <= last; ++k) {
      if (k > first) out += literal ? '\n' : ' ';
      const Line& l = lines_[k];
      if (l.begin != l.end) out.append(text_.substr(l.begin + indent, l.end - l.begin - indent));
    }
    if (!strip) out += '\n';
    uint32_t node = NewNode(Kind::kScalar, true, line);
    tree_->nodes_[node].begin = begin;
    tree_->nodes_[node].count = uint32_t(out.size() - begin);
    cur_ = last + 1;
    return node;
  }

  void Enter() {
    if (++depth_ > kMaxSubsetDepth) GiveUp();
  }
  uint32_t NewNode(Kind kind, bool quoted, size_t line) {
    if (tree_->nodes_.size() >= kMaxYamlNodes) GiveUp();
    auto n = uint32_t(tree_->nodes_.size());
    tree_->nodes_.push_back(Node{kind, quoted, int32_t(line + 1), 0, 0});
    return n;
  }
  uint32_t Scalar(size_t line, std::string_view text, bool quoted) {
    uint32_t n = NewNode(Kind::kScalar, quoted, line);
    tree_->nodes_[n].begin = uint32_t(tree_->chars_.size());
    tree_->nodes_[n].count = uint32_t(text.size());
    tree_->chars_ += text;
    return n;
  }
  uint32_t Plain(size_t line, std::string_view text) {
    return IsNullString(text) ? NewNode(Kind::kNull, false, line) : Scalar(line, text, false);
  }
  uint32_t Open(Kind kind, size_t line) { return NewNode(kind, false, line); }
  // Ends the collection `node` opened when pending_ held `from` entries:
  // the entries since become its children.
  uint32_t Close(uint32_t node, size_t from) {
    Node& n = tree_->nodes_[node];
    n.begin = uint32_t(tree_->kids_.size());
    n.count = uint32_t(pending_.size() - from);
    tree_->kids_.insert(tree_->kids_.end(), pending_.begin() + std::ptrdiff_t(from), pending_.end());
    pending_.resize(from);
    --depth_;
    return node;
  }

  std::string_view text_;
  YamlTree* tree_;
  std::vector<Line> lines_;
  size_t cur_ = 0;  // the line being parsed
  int depth_ = 0;   // open collections
  std::vector<uint32_t> pending_;  // children of the open collections, innermost last
};

bool YamlTree::ParseSubset(std::string_view text) {
  nodes_.reserve(text.size() / 32 + 8);
  kids_.reserve(text.size() / 32 + 8);
  chars_.reserve(text.size());
  try {
    SubsetParser(text, this).Run();
    return true;
  } catch (const Unsupported&) {
    Clear();
    return false;
  }
}

}  // namespace dwfs
