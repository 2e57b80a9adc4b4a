"""Our own small GraphQL schema for the Stash simulator, written for this project.

It is a subset of Stash's public API: every type, field, argument and enum value below carries
the name and type Stash uses (a client that works here sends nothing Stash would reject), but
only what a metadata sync needs is present. ``check_subset`` compares it with an introspection
result of the real schema, so drift can be found mechanically.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLSchema, build_schema, get_introspection_query, graphql_sync

SDL = """
scalar Time
scalar Int64

enum SortDirectionEnum { ASC DESC }

enum CriterionModifier {
  EQUALS NOT_EQUALS GREATER_THAN LESS_THAN IS_NULL NOT_NULL INCLUDES_ALL INCLUDES EXCLUDES
  MATCHES_REGEX NOT_MATCHES_REGEX BETWEEN NOT_BETWEEN
}

input FindFilterType {
  q: String
  page: Int
  per_page: Int
  sort: String
  direction: SortDirectionEnum
}

input StringCriterionInput { value: String! modifier: CriterionModifier! }
input IntCriterionInput { value: Int! value2: Int modifier: CriterionModifier! }
input DateCriterionInput { value: String! value2: String modifier: CriterionModifier! }
input TimestampCriterionInput { value: String! value2: String modifier: CriterionModifier! }
input MultiCriterionInput { value: [ID!] modifier: CriterionModifier! excludes: [ID!] }
input HierarchicalMultiCriterionInput {
  value: [ID!]
  modifier: CriterionModifier!
  depth: Int
  excludes: [ID!]
}

input TagFilterType {
  AND: TagFilterType
  OR: TagFilterType
  NOT: TagFilterType
  name: StringCriterionInput
  created_at: TimestampCriterionInput
  updated_at: TimestampCriterionInput
}

input PerformerFilterType {
  AND: PerformerFilterType
  OR: PerformerFilterType
  NOT: PerformerFilterType
  name: StringCriterionInput
  created_at: TimestampCriterionInput
  updated_at: TimestampCriterionInput
}

input StudioFilterType {
  AND: StudioFilterType
  OR: StudioFilterType
  NOT: StudioFilterType
  name: StringCriterionInput
  created_at: TimestampCriterionInput
  updated_at: TimestampCriterionInput
}

input GroupFilterType {
  AND: GroupFilterType
  OR: GroupFilterType
  NOT: GroupFilterType
  name: StringCriterionInput
  created_at: TimestampCriterionInput
  updated_at: TimestampCriterionInput
}

input SceneFilterType {
  AND: SceneFilterType
  OR: SceneFilterType
  NOT: SceneFilterType
  id: IntCriterionInput
  title: StringCriterionInput
  code: StringCriterionInput
  details: StringCriterionInput
  director: StringCriterionInput
  path: StringCriterionInput
  url: StringCriterionInput
  file_count: IntCriterionInput
  rating100: IntCriterionInput
  organized: Boolean
  studios: HierarchicalMultiCriterionInput
  tags: HierarchicalMultiCriterionInput
  performers: MultiCriterionInput
  performer_tags: HierarchicalMultiCriterionInput
  groups: HierarchicalMultiCriterionInput
  date: DateCriterionInput
  created_at: TimestampCriterionInput
  updated_at: TimestampCriterionInput
}

type Fingerprint { type: String! value: String! }

type VideoFile {
  id: ID!
  path: String!
  basename: String!
  parent_folder_id: ID!
  mod_time: Time!
  size: Int64!
  fingerprints: [Fingerprint!]!
  format: String!
  width: Int!
  height: Int!
  duration: Float!
  video_codec: String!
  audio_codec: String!
  frame_rate: Float!
  bit_rate: Int!
  created_at: Time!
  updated_at: Time!
}

type ScenePathsType {
  screenshot: String
  preview: String
  stream: String
  webp: String
  vtt: String
  sprite: String
  funscript: String
  interactive_heatmap: String
  caption: String
}

type Studio {
  id: ID!
  name: String!
  aliases: [String!]!
  details: String
  parent_studio: Studio
  created_at: Time!
  updated_at: Time!
}
type Performer {
  id: ID!
  name: String!
  disambiguation: String
  alias_list: [String!]!
  tags: [Tag!]!
  created_at: Time!
  updated_at: Time!
}
type Tag {
  id: ID!
  name: String!
  description: String
  aliases: [String!]!
  parents: [Tag!]!
  created_at: Time!
  updated_at: Time!
}

type FindTagsResultType { count: Int! tags: [Tag!]! }
type FindPerformersResultType { count: Int! performers: [Performer!]! }
type FindStudiosResultType { count: Int! studios: [Studio!]! }
type Group {
  id: ID!
  name: String!
  synopsis: String
  director: String
  created_at: Time!
  updated_at: Time!
}
type SceneGroup { group: Group! scene_index: Int }
input SceneGroupInput { group_id: ID! scene_index: Int }
type FindGroupsResultType { count: Int! groups: [Group!]! }
input GroupCreateInput { name: String! synopsis: String director: String }
input GroupUpdateInput { id: ID! name: String synopsis: String director: String }
input GroupDestroyInput { id: ID! }

type Scene {
  id: ID!
  title: String
  code: String
  details: String
  director: String
  urls: [String!]!
  date: String
  rating100: Int
  organized: Boolean!
  stash_ids: [StashID!]!
  groups: [SceneGroup!]!
  o_counter: Int
  interactive: Boolean!
  created_at: Time!
  updated_at: Time!
  files: [VideoFile!]!
  paths: ScenePathsType!
  studio: Studio
  tags: [Tag!]!
  performers: [Performer!]!
}

type StashID {
  endpoint: String!
  stash_id: String!
  updated_at: Time!
}
input StashIDInput {
  endpoint: String!
  stash_id: String!
  updated_at: Time
}

type FindScenesResultType {
  count: Int!
  duration: Float!
  filesize: Float!
  scenes: [Scene!]!
}

type Version { version: String hash: String! build_time: String! }
type ConfigGeneralResult { apiKey: String! }
type ConfigResult { general: ConfigGeneralResult! }

type Query {
  findScene(id: ID, checksum: String): Scene
  findScenes(
    scene_filter: SceneFilterType
    scene_ids: [Int!]
    ids: [ID!]
    filter: FindFilterType
  ): FindScenesResultType!
  findTags(tag_filter: TagFilterType, filter: FindFilterType, ids: [ID!]): FindTagsResultType!
  findPerformers(
    performer_filter: PerformerFilterType
    filter: FindFilterType
    performer_ids: [Int!]
    ids: [ID!]
  ): FindPerformersResultType!
  findGroups(
    group_filter: GroupFilterType
    filter: FindFilterType
    ids: [ID!]
  ): FindGroupsResultType!
  findGroup(id: ID!): Group
  findStudios(
    studio_filter: StudioFilterType
    filter: FindFilterType
    ids: [ID!]
  ): FindStudiosResultType!
  findTag(id: ID!): Tag
  findPerformer(id: ID!): Performer
  findStudio(id: ID!): Studio
  version: Version!
  configuration: ConfigResult!
}

input SceneCreateInput {
  title: String
  code: String
  details: String
  director: String
  urls: [String!]
  date: String
  rating100: Int
  organized: Boolean
  studio_id: ID
  performer_ids: [ID!]
  tag_ids: [ID!]
  stash_ids: [StashIDInput!]
  groups: [SceneGroupInput!]
}
input SceneUpdateInput {
  id: ID!
  title: String
  code: String
  details: String
  director: String
  urls: [String!]
  date: String
  rating100: Int
  organized: Boolean
  studio_id: ID
  performer_ids: [ID!]
  tag_ids: [ID!]
  stash_ids: [StashIDInput!]
  groups: [SceneGroupInput!]
}
input SceneDestroyInput { id: ID! delete_file: Boolean delete_generated: Boolean }
input SceneMergeInput { source: [ID!]! destination: ID! values: SceneUpdateInput }
input TagCreateInput {
  name: String!
  description: String
  aliases: [String!]
  parent_ids: [ID!]
}
input TagUpdateInput {
  id: ID!
  name: String
  description: String
  aliases: [String!]
  parent_ids: [ID!]
}
input TagDestroyInput { id: ID! }
input TagsMergeInput { source: [ID!]! destination: ID! }
input PerformerCreateInput {
  name: String!
  disambiguation: String
  alias_list: [String!]
  tag_ids: [ID!]
}
input PerformerUpdateInput {
  id: ID!
  name: String
  disambiguation: String
  alias_list: [String!]
  tag_ids: [ID!]
}
input PerformerMergeInput { source: [ID!]! destination: ID! values: PerformerUpdateInput }
input StudioCreateInput { name: String! details: String aliases: [String!] parent_id: ID }
input StudioUpdateInput {
  id: ID!
  name: String
  details: String
  aliases: [String!]
  parent_id: ID
}
input StudioDestroyInput { id: ID! }
input ScanMetadataInput { paths: [String!] rescan: Boolean }

type Mutation {
  sceneCreate(input: SceneCreateInput!): Scene
  sceneUpdate(input: SceneUpdateInput!): Scene
  sceneMerge(input: SceneMergeInput!): Scene
  sceneDestroy(input: SceneDestroyInput!): Boolean!
  tagCreate(input: TagCreateInput!): Tag
  tagUpdate(input: TagUpdateInput!): Tag
  tagDestroy(input: TagDestroyInput!): Boolean!
  tagsMerge(input: TagsMergeInput!): Tag
  performerCreate(input: PerformerCreateInput!): Performer
  performerUpdate(input: PerformerUpdateInput!): Performer
  performerMerge(input: PerformerMergeInput!): Performer!
  studioCreate(input: StudioCreateInput!): Studio
  studioUpdate(input: StudioUpdateInput!): Studio
  studioDestroy(input: StudioDestroyInput!): Boolean!
  groupCreate(input: GroupCreateInput!): Group
  groupUpdate(input: GroupUpdateInput!): Group
  groupDestroy(input: GroupDestroyInput!): Boolean!
  metadataScan(input: ScanMetadataInput!): ID!
}
"""

_SCHEMA: GraphQLSchema | None = None


def schema() -> GraphQLSchema:
    """The schema, built once per process (building is the slow part)."""
    global _SCHEMA  # a process-wide cache of an immutable object
    if _SCHEMA is None:
        _SCHEMA = build_schema(SDL)
    return _SCHEMA


def _type_ref(ref: dict[str, Any]) -> str:
    if ref["kind"] == "NON_NULL":
        return _type_ref(ref["ofType"]) + "!"
    if ref["kind"] == "LIST":
        return "[" + _type_ref(ref["ofType"]) + "]"
    return str(ref["name"])


def _members(kind_type: dict[str, Any]) -> dict[str, str]:
    members: dict[str, str] = {}
    for item in kind_type.get("fields") or []:
        args = ",".join(f"{a['name']}:{_type_ref(a['type'])}" for a in item.get("args") or [])
        members[item["name"]] = f"{_type_ref(item['type'])}({args})"
    for item in kind_type.get("inputFields") or []:
        members[item["name"]] = _type_ref(item["type"])
    for item in kind_type.get("enumValues") or []:
        members[item["name"]] = "enum"
    return members


def check_subset(real_introspection: dict[str, Any]) -> list[str]:
    """Differences that make our schema NOT a subset of ``real_introspection``'s (``data``).

    Arguments are compared as a subset too: each of our arguments must exist with the same type.
    Returns an empty list when every type, field, argument and enum value matches.
    """
    ours = graphql_sync(schema(), get_introspection_query()).data
    assert ours is not None
    real = {t["name"]: t for t in real_introspection["__schema"]["types"]}
    problems = []
    for our_type in ours["__schema"]["types"]:
        name = our_type["name"]
        if name.startswith("__"):
            continue
        their_type = real.get(name)
        if their_type is None:
            problems.append(f"type {name} does not exist")
            continue
        if their_type["kind"] != our_type["kind"]:
            problems.append(f"type {name} is {their_type['kind']}, ours {our_type['kind']}")
        problems.extend(_compare_members(name, _members(our_type), _members(their_type)))
    return problems


def _compare_members(name: str, ours: dict[str, str], theirs: dict[str, str]) -> list[str]:
    problems = []
    for member, signature in ours.items():
        if member not in theirs:
            problems.append(f"{name}.{member} does not exist")
            continue
        our_type, _, our_args = signature.partition("(")
        their_type, _, their_args = theirs[member].partition("(")
        if our_type != their_type:
            problems.append(f"{name}.{member} is {their_type}, ours {our_type}")
        their_arg_set = set(their_args.rstrip(")").split(",")) - {""}
        for arg in set(our_args.rstrip(")").split(",")) - {""}:
            if arg not in their_arg_set:
                problems.append(f"{name}.{member} argument {arg} differs or does not exist")
    return problems
