// YamlTree: the node tree of a YAML text's first document, built in one pass
// of yaml-cpp's event parser, with the loader's safety limits (depth, size
// with aliases expanded, one document per file) checked on the same events.
//
// It stands in for YAML::Load after a separate checking pass: the tree has
// the shape YAML::Load would build (its nodes, their order, duplicate map
// keys kept, an alias sharing its anchor's node, even when that makes a
// cycle) and the same marks, but is immutable, compact (no per-node
// allocation) and built while the text is scanned only once.
//
// Most DAG files use a small part of YAML: block mappings and sequences,
// one-line plain, quoted and flow values, literal and folded blocks. Parse
// reads such text with a hand-written parser for that subset (yaml_subset.cc),
// some 20 times faster than yaml-cpp's scanner, and hands anything else,
// including every invalid text, to yaml-cpp: the subset parser never reports
// an error, and what it accepts it reads exactly as yaml-cpp would.
//
// Thread-compatible: a tree is built once, then only read.
#ifndef DWFS_YAML_TREE_H_
#define DWFS_YAML_TREE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dwfs {

// Limits checked on the YAML event stream as the tree is built.
constexpr int kMaxYamlDepth = 64;
constexpr uint64_t kMaxYamlNodes = 1000000;  // counting every alias as a copy of its anchor

class YamlTree;
struct YamlPair;

// A node of a YamlTree, or the undefined node (what looking up a missing map
// key gives). A small value handle: copy it freely; valid while its tree
// lives. Accessors on the undefined node return false, empty or undefined.
class YamlNode {
 public:
  YamlNode() = default;  // undefined

  bool IsDefined() const { return tree_ != nullptr; }
  bool IsNull() const;
  bool IsScalar() const;
  bool IsSequence() const;
  bool IsMap() const;

  // The 1-based line of the node's mark as yaml-cpp gives it (for an empty
  // value that is the next token's line); 0 when undefined or unknown.
  int Line() const;
  // A scalar's text; empty for other nodes.
  std::string_view Scalar() const;
  // True for a scalar with the non-specific tag "!": it was quoted (or
  // tagged "!"), so it is a string whatever it reads like.
  bool IsQuoted() const;

  // Items of a sequence, entries of a map, 0 for other nodes.
  size_t size() const;
  // Item i of a sequence; key and value of entry i of a map (i < size()).
  YamlNode Item(size_t i) const;
  YamlNode Key(size_t i) const;
  YamlNode Value(size_t i) const;
  // The value of the first entry whose key is the scalar `key` (as yaml-cpp's
  // const operator[]); undefined when there is none or this is not a map.
  YamlNode operator[](std::string_view key) const;

  // for (YamlNode item : seq.Items()) / for (const YamlPair& kv : map.Pairs()).
  template <typename T>
  class Range;
  Range<YamlNode> Items() const;
  Range<YamlPair> Pairs() const;

 private:
  friend class YamlTree;
  YamlNode(const YamlTree* tree, uint32_t index) : tree_(tree), index_(index) {}

  const YamlTree* tree_ = nullptr;
  uint32_t index_ = 0;
};

// One entry of a map, named like yaml-cpp's iterator pair.
struct YamlPair {
  YamlNode first;   // the key
  YamlNode second;  // the value
};

// The items (T = YamlNode) or entries (T = YamlPair) of a node, in order.
template <typename T>
class YamlNode::Range {
 public:
  class Iterator {
   public:
    Iterator(const YamlNode* node, size_t i) : node_(node), i_(i) {}
    T operator*() const;
    Iterator& operator++() {
      ++i_;
      return *this;
    }
    bool operator!=(const Iterator& o) const { return i_ != o.i_; }

   private:
    const YamlNode* node_;
    size_t i_;
  };

  explicit Range(YamlNode node) : node_(node) {}
  Iterator begin() const { return Iterator(&node_, 0); }
  Iterator end() const { return Iterator(&node_, node_.size()); }

 private:
  YamlNode node_;
};

template <>
inline YamlNode YamlNode::Range<YamlNode>::Iterator::operator*() const {
  return node_->Item(i_);
}
template <>
inline YamlPair YamlNode::Range<YamlPair>::Iterator::operator*() const {
  return YamlPair{node_->Key(i_), node_->Value(i_)};
}
inline YamlNode::Range<YamlNode> YamlNode::Items() const { return Range<YamlNode>(*this); }
inline YamlNode::Range<YamlPair> YamlNode::Pairs() const { return Range<YamlPair>(*this); }

class YamlTree {
 public:
  YamlTree() = default;
  YamlTree(const YamlTree&) = delete;
  YamlTree& operator=(const YamlTree&) = delete;

  // Parses `text` (the whole stream, every document), building the first
  // document's tree: ParseSubset, else ParseYamlCpp. Fails on invalid YAML
  // (message "invalid YAML: " and yaml-cpp's text), nesting deeper than
  // kMaxYamlDepth, more than kMaxYamlNodes nodes with aliases expanded, or a
  // second non-empty document. On failure returns false and sets *line
  // (1-based, 0 when unknown) and *message; the tree is then unusable.
  // Exceptions other than yaml-cpp's (std::bad_alloc) propagate. Call once
  // per tree.
  bool Parse(std::string_view text, int* line, std::string* message);

  // The two ways Parse builds the tree (public for tests, which check that
  // they agree). ParseSubset returns false, leaving the tree empty, for any
  // text outside its subset (yaml_subset.cc); ParseYamlCpp is Parse through
  // yaml-cpp's event parser alone. Each on an empty tree only.
  bool ParseSubset(std::string_view text);
  bool ParseYamlCpp(std::string_view text, int* line, std::string* message);

  // The first document's root: a null node for an empty stream.
  YamlNode root() const { return YamlNode(this, root_); }

 private:
  friend class YamlNode;
  class Builder;       // yaml-cpp's event handler, in yaml_tree.cc
  class SubsetParser;  // in yaml_subset.cc

  enum class Kind : uint8_t { kNull, kScalar, kSequence, kMap };
  struct Node {
    Kind kind;
    bool quoted;    // a scalar tagged "!"
    int32_t line;   // 1-based, 0 = unknown
    uint32_t begin;  // scalar: offset in chars_; collection: offset in kids_
    uint32_t count;  // scalar: bytes; sequence: items; map: 2 x entries
  };

  const Node& node(uint32_t i) const { return nodes_[i]; }
  void Clear();

  std::vector<Node> nodes_;
  std::vector<uint32_t> kids_;  // children of each collection, contiguous; map: key, value, ...
  std::string chars_;           // the text of every scalar, back to back
  uint32_t root_ = 0;
};

inline bool YamlNode::IsNull() const { return tree_ && tree_->node(index_).kind == YamlTree::Kind::kNull; }
inline bool YamlNode::IsScalar() const { return tree_ && tree_->node(index_).kind == YamlTree::Kind::kScalar; }
inline bool YamlNode::IsSequence() const { return tree_ && tree_->node(index_).kind == YamlTree::Kind::kSequence; }
inline bool YamlNode::IsMap() const { return tree_ && tree_->node(index_).kind == YamlTree::Kind::kMap; }
inline int YamlNode::Line() const { return tree_ ? tree_->node(index_).line : 0; }
inline bool YamlNode::IsQuoted() const { return IsScalar() && tree_->node(index_).quoted; }

inline std::string_view YamlNode::Scalar() const {
  if (!IsScalar()) return {};
  const YamlTree::Node& n = tree_->node(index_);
  return std::string_view(tree_->chars_).substr(n.begin, n.count);
}

inline size_t YamlNode::size() const {
  if (!IsSequence() && !IsMap()) return 0;
  const YamlTree::Node& n = tree_->node(index_);
  return n.kind == YamlTree::Kind::kMap ? n.count / 2 : n.count;
}

inline YamlNode YamlNode::Item(size_t i) const {
  return YamlNode(tree_, tree_->kids_[tree_->node(index_).begin + i]);
}
inline YamlNode YamlNode::Key(size_t i) const {
  return YamlNode(tree_, tree_->kids_[tree_->node(index_).begin + 2 * i]);
}
inline YamlNode YamlNode::Value(size_t i) const {
  return YamlNode(tree_, tree_->kids_[tree_->node(index_).begin + 2 * i + 1]);
}

}  // namespace dwfs

#endif  // DWFS_YAML_TREE_H_
