#include "query/split_reader.h"

#include <gtest/gtest.h>

namespace pqflow::query {
namespace {

// A dataset whose main layout is `main` and whose splits are `splits` (name -> layout).
DatasetConfig Dataset(const std::string& main, const std::vector<std::pair<std::string, std::string>>& splits) {
  std::string toml = "[datasets.pv]\nlayout = \"" + main + "\"\ntime_column = \"date\"\n"
                     "[datasets.pv.source]\nformat = \"csv\"\n";
  for (const auto& [name, layout] : splits) toml += "[datasets.pv.splits." + name + "]\nlayout = \"" + layout + "\"\n";
  for (const char* column : {"project_slug string", "region string", "org_slug string", "status int16", "date date32"}) {
    const std::string spec(column);
    toml += "[[datasets.pv.columns]]\nname = \"" + spec.substr(0, spec.find(' ')) + "\"\ntype = \"" +
            spec.substr(spec.find(' ') + 1) + "\"\n";
    if (spec.starts_with("org_slug")) toml += "in_file = false\n";
  }
  auto config = ParseConfig(toml, "test.toml", ".");
  EXPECT_TRUE(config.ok()) << config.status().ToString();
  return config.ok() ? config->datasets.at("pv") : DatasetConfig{};
}

std::vector<std::string> Pins(const std::string& main, const std::string& split) {
  DatasetConfig ds = Dataset(main, {{"s", split}});
  auto layout = PathTemplate::Make(main, "pv");
  EXPECT_TRUE(layout.ok());
  return SplitPinColumns(ds, *layout);
}

const std::string kDaily = "pv/{YYYY}/{MM}/{DD}/pv_{YYYY-MM-DD}.parquet";

TEST(SplitReaderTest, ASplitThatCutsEachMainPartitionByTextColumnsCanStandIn) {
  EXPECT_EQ(Pins(kDaily, "pv/project/{project_slug}/{YYYY}/{MM}/{DD}/pv_{YYYY-MM-DD}.parquet"),
            std::vector<std::string>{"project_slug"});
  EXPECT_EQ(Pins("pv/{region}/{date}/pv.parquet", "pv/{region}/{project_slug}/{date}/pv.parquet"),
            std::vector<std::string>{"project_slug"});
}

TEST(SplitReaderTest, ASplitThatCannotHoldExactlyAPartOfAMainPartitionIsNeverUsed) {
  // Monthly files hold many days of a daily main layout.
  EXPECT_TRUE(Pins(kDaily, "pv/project/{project_slug}/{YYYY}/{MM}/pv.parquet").empty());
  // The split does not cut by the main layout's region: its file holds rows of every region.
  EXPECT_TRUE(Pins("pv/{region}/{date}/pv.parquet", "pv/{project_slug}/{date}/pv.parquet").empty());
  // Not text in the files: a number, or a column only the layout sees.
  EXPECT_TRUE(Pins(kDaily, "pv/status/{status}/{date}/pv.parquet").empty());
  EXPECT_TRUE(Pins(kDaily, "pv/org/{org_slug}/{date}/pv.parquet").empty());
}

}  // namespace
}  // namespace pqflow::query
