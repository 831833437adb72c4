export { User } from "./User";
export { Category } from "./Category";
export { Article } from "./Article";
export { Comment } from "./Comment";
