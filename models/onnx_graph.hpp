#pragma once
// A thin writer over onnx::GraphProto: adds initializers and nodes with their attributes and
// hands back the names of the tensors it made, so model code reads like the network it builds.
//
// Contract: names are unique within the graph (a counter suffix is added on reuse), float
// initializers are stored as little-endian raw_data, and nothing here reorders what the caller
// adds, so the serialized bytes follow the call order exactly.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

namespace harness::models {

class OnnxGraph {
 public:
  explicit OnnxGraph(onnx::GraphProto* graph) : graph_(graph) {}

  std::string initializer(const std::string& name, const std::vector<std::int64_t>& dims,
                          const std::vector<float>& values);
  std::string initializer_i64(const std::string& name, const std::vector<std::int64_t>& dims,
                              const std::vector<std::int64_t>& values);

  // Adds a node named `name` with `outputs` outputs called name:0, name:1, ...
  onnx::NodeProto& node(const std::string& op, const std::string& name,
                        const std::vector<std::string>& inputs, int outputs = 1);
  // The first output of a one-output node.
  std::string op(const std::string& op, const std::string& name,
                 const std::vector<std::string>& inputs) {
    return node(op, name, inputs).output(0);
  }

  void input(const std::string& name, const std::vector<std::int64_t>& dims);
  void output(const std::string& name, const std::vector<std::int64_t>& dims);

 private:
  std::string unique(const std::string& name);

  onnx::GraphProto* graph_;
  std::map<std::string, int> used_;
};

void set_attr(onnx::NodeProto& node, const std::string& name, std::int64_t value);
void set_attr(onnx::NodeProto& node, const std::string& name, float value);
void set_attr(onnx::NodeProto& node, const std::string& name, const std::string& value);
void set_attr(onnx::NodeProto& node, const std::string& name,
              const std::vector<std::int64_t>& values);

}  // namespace harness::models
