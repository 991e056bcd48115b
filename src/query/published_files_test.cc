#include "query/published_files.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "sink/publish_journal.h"
#include "temp_dir.h"

namespace pqflow::query {
namespace {

namespace fs = std::filesystem;

ColumnSpec Column(const std::string& name, TypeKind kind) {
  ColumnSpec c;
  c.name = name;
  c.type = ColumnType{kind, 0, 0};
  return c;
}

// The files of a daily layout, without Parquet in them: which files a query reads is decided
// from paths, manifests and the journal alone.
class PublishedFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage_ = storage::MakeLocalStorage(dir_ / "data");
    rel_.name = "pv";
    rel_.layout = "pv/{YYYY}/{MM}/pv_{YYYY-MM-DD}.parquet";
    rel_.columns = {Column("date", TypeKind::kDate), Column("views", TypeKind::kInt32)};
    rel_.time_column = "date";
  }

  // "2026-01-05", 2 -> "pv/2026/01/pv_2026-01-05-0002.parquet"; 0 is the unrotated name.
  static std::string FileOf(const std::string& day, int n = 0) {
    const std::string path = "pv/2026/01/pv_" + day + ".parquet";
    return n == 0 ? path : RotatedFileName(path, n);
  }
  static std::string ManifestOf(const std::string& day) { return sink::ManifestPathFor(FileOf(day)); }

  void WriteData(const std::string& path, size_t bytes) {
    fs::create_directories(fs::path(dir_ / ("data/" + path)).parent_path());
    std::ofstream(dir_ / ("data/" + path)) << std::string(bytes, 'x');
  }

  void WriteManifest(const std::string& day, const std::vector<std::string>& files, const std::string& dataset = "pv",
                     const std::string& split = "") {
    sink::Manifest m;
    m.dataset = dataset;
    m.split = split;
    m.layout = rel_.layout;
    m.date = day;
    m.schema = rel_.columns;
    for (const auto& f : files) m.files.push_back({f, 10, static_cast<int64_t>(fs::file_size(dir_ / ("data/" + f))), "00", std::nullopt});
    ASSERT_TRUE(storage_->WriteFileAtomic(ManifestOf(day), m.ToJson()).ok());
  }

  // What the catalog's listing would find now.
  void List() {
    listed_.clear();
    manifests_ = {};
    auto files = storage_->List("pv/");
    ASSERT_TRUE(files.ok()) << files.status().ToString();
    auto layout = PathTemplate::Make(rel_.layout, rel_.name).value();
    for (const auto& f : *files) {
      if (sink::IsManifestPath(f.path)) manifests_.paths.push_back(f.path);
      if (!f.path.ends_with(".parquet")) continue;
      auto values = layout.Parse(f.path);
      ASSERT_TRUE(values.ok()) << f.path;
      listed_.push_back({f, *values});
    }
  }

  Result<PublishedFiles> Resolve(bool dataset = true) {
    std::vector<size_t> all;
    for (size_t i = 0; i < listed_.size(); ++i) all.push_back(i);
    auto layout = PathTemplate::Make(rel_.layout, rel_.name).value();
    return ResolvePublishedFiles(*storage_, rel_, dataset, layout, listed_, all, &manifests_);
  }

  static std::vector<std::string> Paths(const PublishedFiles& p) {
    std::vector<std::string> out;
    for (const auto& f : p.files) out.push_back(f.info.path);
    std::sort(out.begin(), out.end());
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Storage> storage_;
  Relation rel_;
  std::vector<LayoutFile> listed_;
  ListedManifests manifests_;
};

// An --overwrite between moving its new file into place and deleting the old one: both are
// there, and the manifest names one of them.
TEST_F(PublishedFilesTest, APartitionIsReadAsItsManifestNamesIt) {
  WriteData(FileOf("2026-01-01"), 100);
  WriteData(FileOf("2026-01-01", 1), 120);
  WriteManifest("2026-01-01", {FileOf("2026-01-01")});
  List();
  auto p = Resolve();
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(Paths(*p), std::vector<std::string>{FileOf("2026-01-01")});
  EXPECT_TRUE(p->declared_schema);

  WriteManifest("2026-01-01", {FileOf("2026-01-01", 1)});  // switched
  List();
  p = Resolve();
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(Paths(*p), std::vector<std::string>{FileOf("2026-01-01", 1)});
  EXPECT_EQ(p->files[0].info.size, 120);
  ASSERT_TRUE(p->files[0].values.date.has_value());
  EXPECT_EQ(p->files[0].values.date->ToIso(), "2026-01-01");
}

// Listed before the new file arrived, manifest read after the switch: the new version is
// read, whole, and the old file (in the listing) is not.
TEST_F(PublishedFilesTest, AFileTheListingMissedIsReadWhenTheManifestNamesIt) {
  WriteData(FileOf("2026-01-02"), 100);
  WriteManifest("2026-01-02", {FileOf("2026-01-02")});
  List();
  WriteData(FileOf("2026-01-02", 1), 130);
  WriteData(FileOf("2026-01-02", 2), 140);
  WriteManifest("2026-01-02", {FileOf("2026-01-02", 1), FileOf("2026-01-02", 2)});
  manifests_.read.clear();  // as when the manifests were not read with the listing
  auto p = Resolve();
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(Paths(*p), (std::vector<std::string>{FileOf("2026-01-02", 1), FileOf("2026-01-02", 2)}));
  EXPECT_EQ(p->files[1].info.size, 140);
}

// A first publish stopped (or still going) between moving files and writing the manifest:
// the journal names the files, which are not read; files no journal names are another
// tool's, and are.
TEST_F(PublishedFilesTest, FilesAnUnfinishedPublishNamesAreNotRead) {
  WriteData(FileOf("2026-01-03"), 100);
  WriteData(FileOf("2026-01-04", 1), 100);
  ASSERT_TRUE(sink::WriteJournal(*storage_, "pv", "run-1", {{ManifestOf("2026-01-04"),
                                                              {FileOf("2026-01-04", 1), FileOf("2026-01-04", 2)}}})
                  .ok());
  List();
  auto p = Resolve();
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(Paths(*p), std::vector<std::string>{FileOf("2026-01-03")});
  EXPECT_FALSE(p->declared_schema);  // no manifest proves the foreign file's columns
}

// Listed while a publish was moving a two-file partition in (one file there), read after it
// finished (journal gone): the partition's manifest, written since, is found and read whole.
TEST_F(PublishedFilesTest, APublishThatFinishedAfterTheListingIsReadWhole) {
  WriteData(FileOf("2026-01-05", 1), 100);
  List();
  WriteData(FileOf("2026-01-05", 2), 110);
  WriteManifest("2026-01-05", {FileOf("2026-01-05", 1), FileOf("2026-01-05", 2)});
  auto p = Resolve();
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(Paths(*p), (std::vector<std::string>{FileOf("2026-01-05", 1), FileOf("2026-01-05", 2)}));
}

TEST_F(PublishedFilesTest, AManifestOfAnotherDatasetOrOfASplitProvesNothing) {
  WriteData(FileOf("2026-01-06"), 100);
  WriteData(FileOf("2026-01-06", 1), 100);
  for (const auto& [dataset, split] : std::vector<std::pair<std::string, std::string>>{{"other", ""}, {"pv", "by_x"}}) {
    WriteManifest("2026-01-06", {FileOf("2026-01-06")}, dataset, split);
    List();
    auto p = Resolve();
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_EQ(Paths(*p), (std::vector<std::string>{FileOf("2026-01-06", 1), FileOf("2026-01-06")})) << dataset;
  }
}

TEST_F(PublishedFilesTest, AFileTheManifestListsThatIsGoneIsAnError) {
  WriteData(FileOf("2026-01-07"), 100);
  WriteManifest("2026-01-07", {FileOf("2026-01-07")});
  List();
  WriteData(FileOf("2026-01-07", 1), 100);
  WriteManifest("2026-01-07", {FileOf("2026-01-07", 1)});
  fs::remove(dir_ / ("data/" + FileOf("2026-01-07", 1)));
  manifests_.read.clear();
  auto p = Resolve();
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find(FileOf("2026-01-07", 1) + ", which the manifest"), std::string::npos)
      << p.status().message();
  EXPECT_NE(p.status().message().find("run it again"), std::string::npos) << p.status().message();
}

TEST_F(PublishedFilesTest, DeclaredSchemaOnlyWhenEveryManifestHasTheDeclaredColumns) {
  WriteData(FileOf("2026-01-08"), 100);
  WriteData(FileOf("2026-01-09"), 100);
  WriteManifest("2026-01-08", {FileOf("2026-01-08")});
  WriteManifest("2026-01-09", {FileOf("2026-01-09")});
  List();
  auto p = Resolve();
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->declared_schema);
  rel_.columns.push_back(Column("added_later", TypeKind::kString));
  p = Resolve();
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->declared_schema);
}

// A stream writes whole files and no manifest; a leftover journal of a dataset of the same
// name does not hide them.
TEST_F(PublishedFilesTest, AStreamsFilesAreReadAsListed) {
  WriteData(FileOf("2026-01-10"), 100);
  ASSERT_TRUE(sink::WriteJournal(*storage_, "pv", "run-1", {{ManifestOf("2026-01-10"), {FileOf("2026-01-10")}}}).ok());
  List();
  auto p = Resolve(/*dataset=*/false);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(Paths(*p), std::vector<std::string>{FileOf("2026-01-10")});
}

}  // namespace
}  // namespace pqflow::query
