"""LinkedIn Learning: a read-only content library behind LinkedIn's Rest.li API (`/v2`), with
OAuth2 client credentials. Courses from `learningAssets` (with `lastModifiedAfter`), skills
from `learningClassifications`, users and course progressions from `learningActivityReports`.
Nothing can be written: every write action is UNSUPPORTED and refused before a task exists."""
