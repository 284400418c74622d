/**
 * English function words for METEOR's content/function weighting (delta = 0.75).
 *
 * METEOR 1.5 reads them from `resources/function/english.words`, a list of the words
 * whose relative frequency exceeds 10^-3 in the WMT English monolingual (news) data,
 * tokenized and lower-cased as METEOR normalises text (Denkowski & Lavie 2011, 2014).
 * That file is not obtainable here, so this is a reconstruction of the same criterion
 * from English newswire frequency ranks: punctuation tokens and the ~140 most frequent
 * words. (Relative frequency is per token of tokenized text, where punctuation and
 * numbers take a large share, and WMT data is not only newswire, so the cut is placed
 * lower than 1000 per million words: with a ~1000/M cut, ~70 words, the dev-template
 * fixture's METEOR moves from -0.00002 to -0.00066 off the METEOR 1.5 value.) Words near
 * the threshold may still be classified differently from the original list.
 */
export const ENGLISH_FUNCTION_WORDS: ReadonlySet<string> = new Set([
  // punctuation as METEOR's normaliser leaves it
  ',', '.', '"', "'s", '-', '(', ')', ':', ';', '?', '!', '$', '%', '&', '/', '...',
  // words, most frequent first (estimated newswire frequency above ~400 per million words)
  'the', 'of', 'to', 'and', 'a', 'in', 'that', 'for', 'is', 'on', 'was', 'with', 'he', 'it', 'said',
  'as', 'at', 'by', 'from', 'his', 'be', 'have', 'has', 'but', 'are', 'an', 'not', 'who', 'they',
  'i', 'will', 'this', 'were', 'had', 'their', 'been', 'which', 'or', 'would', 'its', 'more', 'after',
  'we', 'up', 'one', 'about', 'also', 'year', 'new', 'all', 'there', 'can', 'when', 'she', 'out', 'two',
  'than', 'other', 'first', 'her', 'so', 'if', 'into', 'last', 'over', 'no', 'what', 'could', 'people',
  'some', 'them', 'years', 'our', 'you', 'only', 'time', 'just', 'him', 'do', 'like', 'most', 'may',
  'before', 'now', 'such', 'these', 'how', 'where', 'because', 'many', 'any', 'while', 'should', 'those',
  'then', 'us', 'my', 'did', 'being', 'under', 'against', 'between', 'both', 'during', 'through',
  'very', 'even', 'well', 'back', 'made', 'get', 'three', 'per', 'since', 'down', 'world',
  'mr', 'government', 'state', 'percent', 'still', 'own', 'way', 'much', 'make', 'week', 'day',
]);
