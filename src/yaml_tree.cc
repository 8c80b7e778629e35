// YamlTree::Parse: one pass of yaml-cpp's event parser that checks the
// loader's limits and builds the first document's tree.
#include "yaml_tree.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <istream>
#include <streambuf>
#include <unordered_map>

namespace dwfs {

namespace {

// A problem found by the Builder: thrown from an event to stop the parser.
struct TreeError {
  int line;  // 1-based, 0 = unknown
  std::string message;
};

// A read-only std::streambuf over a string_view (no copy of the text).
// yaml-cpp only reads, and puts back characters it has just read, which
// sputbackc does by moving the get pointer (pbackfail is never reached with
// a different character, and fails rather than writes if it were).
class ViewBuf : public std::streambuf {
 public:
  explicit ViewBuf(std::string_view text) {
    char* p = const_cast<char*>(text.data());
    setg(p, p, p + text.size());
  }
};

int Line(const YAML::Mark& m) { return m.line >= 0 ? m.line + 1 : 0; }

}  // namespace

// Receives the parser's events for the whole stream. For every document it
// rejects nesting deeper than kMaxYamlDepth (throwing from the handler stops
// the recursive parser early, whatever the syntax: flow, block or compact
// "- - -"), more than kMaxYamlNodes nodes with aliases expanded (billion
// laughs), a second non-empty document (one DAG per file), and text yaml-cpp
// cannot consume. For the first document it also builds the tree as
// yaml-cpp's NodeBuilder would: every node made at its event with that
// event's mark, an alias being its anchor's node, children attached in order.
class YamlTree::Builder : public YAML::EventHandler {
 public:
  Builder(std::string_view text, YamlTree* tree) : text_(text), tree_(tree) {}

  // True once the first document gave a root node.
  bool has_root() const { return has_root_; }

  void OnDocumentStart(const YAML::Mark& mark) override {
    // yaml-cpp starts an empty document at a stray top-level ',' (as in
    // "a: 1\n,") without consuming it, forever: no progress is an error.
    if (documents_ > 0 && mark.pos == doc_mark_.pos) {
      std::string what = mark.pos >= 0 && size_t(mark.pos) < text_.size() ? std::string(1, text_[size_t(mark.pos)]) : "";
      throw TreeError{Line(mark), "invalid YAML: unexpected '" + what + "' at column " + std::to_string(mark.column + 1)};
    }
    ++documents_;
    doc_mark_ = mark;
    anchor_sizes_.clear();
  }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    Leaf(mark, anchor);
    if (building()) Attach(NewNode(Kind::kNull, false, mark, anchor));
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    CheckSecondDocument(mark);
    auto it = anchor_sizes_.find(anchor);
    Add(it == anchor_sizes_.end() ? 1 : it->second, mark);
    if (building()) {
      // The parser resolves every alias to an earlier anchor of the document.
      if (anchor >= anchor_nodes_.size()) throw TreeError{Line(mark), "invalid YAML: unknown anchor"};
      Attach(anchor_nodes_[anchor]);
    }
  }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    CheckSecondDocument(mark);
    Leaf(mark, anchor);
    if (building()) {
      uint32_t n = NewNode(Kind::kScalar, tag == "!", mark, anchor);
      tree_->nodes_[n].begin = uint32_t(tree_->chars_.size());
      tree_->nodes_[n].count = uint32_t(value.size());
      tree_->chars_ += value;
      Attach(n);
    }
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    Open(Kind::kSequence, mark, anchor);
  }
  void OnSequenceEnd() override { Close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    Open(Kind::kMap, mark, anchor);
  }
  void OnMapEnd() override { Close(); }

 private:
  struct Frame {
    YAML::Mark mark;
    YAML::anchor_t anchor;
    uint64_t size;        // nodes in this collection, itself included, aliases expanded
    uint32_t node;        // the collection's node (first document only)
    size_t pending_from;  // its children start at pending_[pending_from]
  };

  bool building() const { return documents_ == 1; }

  void CheckSecondDocument(const YAML::Mark& mark) {
    if (documents_ > 1 && stack_.empty()) {
      throw TreeError{Line(doc_mark_.line >= 0 ? doc_mark_ : mark),
                      "a second YAML document: a DAG file holds one document (one DAG per file)"};
    }
  }
  // Adds n nodes to the innermost open collection (or the stream total).
  // Every size is capped at kMaxYamlNodes, so the sums cannot overflow.
  void Add(uint64_t n, const YAML::Mark& mark) {
    uint64_t& target = stack_.empty() ? total_ : stack_.back().size;
    target += n;
    if (target > kMaxYamlNodes) {
      throw TreeError{Line(mark), "YAML too large: over " + std::to_string(kMaxYamlNodes) +
                                      " nodes (aliases count as copies of their anchor)"};
    }
  }
  void Leaf(const YAML::Mark& mark, YAML::anchor_t anchor) {
    Add(1, mark);
    if (anchor) anchor_sizes_[anchor] = 1;
  }
  void Open(Kind kind, const YAML::Mark& mark, YAML::anchor_t anchor) {
    CheckSecondDocument(mark);
    if (int(stack_.size()) >= kMaxYamlDepth) {
      throw TreeError{Line(mark), "YAML nesting deeper than " + std::to_string(kMaxYamlDepth) + " levels"};
    }
    uint32_t node = building() ? NewNode(kind, false, mark, anchor) : 0;
    stack_.push_back(Frame{mark, anchor, 1, node, pending_.size()});
  }
  void Close() {
    if (stack_.empty()) return;
    Frame f = stack_.back();
    stack_.pop_back();
    if (f.anchor) anchor_sizes_[f.anchor] = f.size;
    Add(f.size, f.mark);
    if (building()) {
      Node& n = tree_->nodes_[f.node];
      n.begin = uint32_t(tree_->kids_.size());
      n.count = uint32_t(pending_.size() - f.pending_from);
      tree_->kids_.insert(tree_->kids_.end(), pending_.begin() + std::ptrdiff_t(f.pending_from), pending_.end());
      pending_.resize(f.pending_from);
      Attach(f.node);
    }
  }

  // Appends a node (children or text filled in later) and registers its
  // anchor, as NodeBuilder does when the node's first event arrives.
  uint32_t NewNode(Kind kind, bool quoted, const YAML::Mark& mark, YAML::anchor_t anchor) {
    auto n = uint32_t(tree_->nodes_.size());
    tree_->nodes_.push_back(Node{kind, quoted, mark.line + 1, 0, 0});
    if (anchor) {
      if (anchor_nodes_.size() <= anchor) anchor_nodes_.resize(anchor + 1, 0);
      anchor_nodes_[anchor] = n;
    }
    return n;
  }
  // Makes a finished node the next child of the innermost open collection,
  // or the document's root.
  void Attach(uint32_t n) {
    if (!stack_.empty()) {
      pending_.push_back(n);
    } else if (!has_root_) {
      tree_->root_ = n;
      has_root_ = true;
    }
  }

  std::string_view text_;
  YamlTree* tree_;
  int documents_ = 0;
  YAML::Mark doc_mark_ = YAML::Mark::null_mark();
  std::vector<Frame> stack_;
  std::unordered_map<YAML::anchor_t, uint64_t> anchor_sizes_;
  uint64_t total_ = 0;
  // First document only: the node of each anchor, and the children of the
  // open collections, innermost last.
  std::vector<uint32_t> anchor_nodes_;
  std::vector<uint32_t> pending_;
  bool has_root_ = false;
};

void YamlTree::Clear() {
  nodes_.clear();
  kids_.clear();
  chars_.clear();
  root_ = 0;
}

bool YamlTree::Parse(std::string_view text, int* line, std::string* message) {
  if (ParseSubset(text)) return true;
  Clear();
  return ParseYamlCpp(text, line, message);
}

bool YamlTree::ParseYamlCpp(std::string_view text, int* line, std::string* message) {
  // A typical DAG file has a node per 20-40 bytes and most of its bytes in scalars.
  nodes_.reserve(text.size() / 32 + 8);
  kids_.reserve(text.size() / 32 + 8);
  chars_.reserve(text.size());
  try {
    ViewBuf buf(text);
    std::istream in(&buf);
    YAML::Parser parser(in);
    Builder builder(text, this);
    while (parser.HandleNextDocument(builder)) {
    }
    if (!builder.has_root()) {  // an empty stream: YAML::Load gives a null node
      root_ = uint32_t(nodes_.size());
      nodes_.push_back(Node{Kind::kNull, false, 0, 0, 0});
    }
    return true;
  } catch (const TreeError& e) {
    *line = e.line;
    *message = e.message;
  } catch (const YAML::Exception& e) {
    *line = e.mark.line >= 0 ? e.mark.line + 1 : 0;
    *message = "invalid YAML: " + e.msg;
  }
  return false;
}

YamlNode YamlNode::operator[](std::string_view key) const {
  if (!IsMap()) return YamlNode();
  for (size_t i = 0, n = size(); i < n; ++i) {
    YamlNode k = Key(i);
    if (k.IsScalar() && k.Scalar() == key) return Value(i);
  }
  return YamlNode();
}

}  // namespace dwfs
